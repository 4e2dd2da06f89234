// SPDX-License-Identifier: GPL-2.0
/*
 * Source-address stall: the socket's own source address vanished, or its
 * route did, so every retransmit re-routes in inet_sk_rebuild_header()
 * (inet6_sk_rebuild_header() for IPv6), called from __tcp_retransmit_skb(),
 * and a blocking connect() sleeps through the whole SYN retry period. We alert on the first such re-route,
 * long before connect() returns; the hub (connect.c) calls us back when
 * that connect() returns, and we report the end of the stall.
 *
 * IPv4 fails the re-route with ENETUNREACH both when the source is no
 * longer local and when no route is left, so the source is checked here:
 * saddr-lost when it is gone, route-lost when it is still there. IPv6
 * re-routes a fixed source without checking it: a deleted source with a
 * route left succeeds, and the SYNs leave from an address the host no
 * longer owns; that is saddr-lost too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/ipv6.h>
#include <net/addrconf.h>
#include <net/route.h>
#include <net/ip_fib.h>
#include <net/l3mdev.h>
#include <linux/inetdevice.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_HINT_SADDR "the socket's source address is gone; connect() blocks until the SYN retries run out: use a non-blocking connect with a deadline, lower TCP_SYNCNT or set TCP_USER_TIMEOUT"
#define TCD_HINT_SADDR_NB "the socket's source address is gone; the handshake fails only when the SYN retries run out: give connect() a deadline, lower TCP_SYNCNT or set TCP_USER_TIMEOUT"
/* What ip_dynaddr can do for this socket (inet_sk_rebuild_header()). */
#define TCD_HINT_DYN_OFF ", or net.ipv4.ip_dynaddr=1 to re-select the source"
#define TCD_HINT_DYN_BOUND "; ip_dynaddr cannot help: the socket was bound to this address"
#define TCD_HINT_DYN_NONE "; ip_dynaddr is on but found no other source address"
#define TCD_HINT_DYN_V6 "; IPv6 never re-selects the source (ip_dynaddr is IPv4 only)"
#define TCD_HINT_DYN_NOROUTE "; ip_dynaddr cannot help: there is no route to the destination from any source either"
#define TCD_HINT_SADDR_EST "the connection's source address is gone; data retransmits fail until tcp_retries2 or TCP_USER_TIMEOUT kills it"
#define TCD_HINT_SADDR_V6 "the socket's source address is gone but a route is left: packets leave from an address this host no longer owns and no answer can come back, until the retries run out: give connect() a deadline, lower TCP_SYNCNT or set TCP_USER_TIMEOUT; IPv6 never re-selects the source"
#define TCD_HINT_ROUTE "the source address is still here but no route to the destination is left (interface down, route withdrawn, VPN device gone); connect() blocks until the SYN retries run out unless the route comes back: check ip route, use a non-blocking connect with a deadline, lower TCP_SYNCNT or set TCP_USER_TIMEOUT"
#define TCD_HINT_ROUTE_NB "the source address is still here but no route to the destination is left (interface down, route withdrawn, VPN device gone); the handshake fails when the SYN retries run out unless the route comes back: check ip route, give connect() a deadline"
#define TCD_HINT_STALL_SADDR "connect() stayed blocked after its source address vanished"
#define TCD_HINT_STALL_ROUTE "connect() stayed blocked after its route vanished"
#define TCD_HINT_STALL "; use a non-blocking connect with a deadline or a lower TCP_SYNCNT"
#define TCD_HINT_ROUTE_EST "the connection's route is gone (interface down, route withdrawn, VPN device gone); data retransmits fail until the route returns or tcp_retries2/TCP_USER_TIMEOUT kills it: check ip route"

/* Seconds from the first SYN until connect() gives up: tcd_syn_giveup_calc(). */
static unsigned int tcd_syn_giveup_s(const struct sock *sk, unsigned int retries)
{
	return tcd_syn_giveup_calc(retries, tcd_tcp_syn_linear_timeouts(sock_net(sk)),
				   TCP_TIMEOUT_INIT, tcd_rto_max(sk), HZ);
}

/* An IPv6 socket that is not talking IPv4 through a v4-mapped address. */
static bool tcd_is_v6(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	return sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr);
#else
	return false;
#endif
}

/* Is @sk's source address still an address of its network namespace? */
static bool tcd_saddr_is_local(struct sock *sk)
{
	bool local;

#if IS_ENABLED(CONFIG_IPV6)
	if (tcd_is_v6(sk))
		return ipv6_chk_addr(sock_net(sk), &sk->sk_v6_rcv_saddr, NULL, 0);
#endif
	rcu_read_lock();
	local = __ip_dev_find(sock_net(sk), inet_sk(sk)->inet_saddr, false);
	rcu_read_unlock();
	return local;
}

/*
 * Would an IPv4 route lookup that may choose its own source succeed? That
 * is what ip_dynaddr re-selection needs (inet_sk_reselect_saddr()). This
 * runs in a probe handler: a FIB lookup under RCU, never a route output,
 * which may allocate a dst (slab locks sleep on PREEMPT_RT; the debug
 * kernel reported it). The steps are ip_route_output_key_hash_rcu()'s for
 * a unicast destination and no source: a bound device must be up with
 * IPv4 on it; a failed lookup with a bound device still routes (the
 * destination is assumed on link), except for a VRF master.
 */
static bool tcd_route_without_saddr(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct flowi4 fl4 = {
		.daddr = inet_sk(sk)->inet_daddr,
		.flowi4_oif = sk->sk_bound_dev_if,
		.flowi4_iif = LOOPBACK_IFINDEX,
		.flowi4_mark = sk->sk_mark,
		.flowi4_proto = IPPROTO_TCP,
	};
	struct fib_result res;
	struct net_device *dev;
	bool ok = false;

	rcu_read_lock();
	if (fl4.flowi4_oif) {
		dev = dev_get_by_index_rcu(net, fl4.flowi4_oif);
		if (!dev || !(dev->flags & IFF_UP) || !__in_dev_get_rcu(dev))
			goto out;
	}
	ok = !fib_lookup(net, &fl4, &res, 0) ||
	     (fl4.flowi4_oif && !netif_index_is_l3_master(net, fl4.flowi4_oif));
out:
	rcu_read_unlock();
	return ok;
}

/* The hint's ip_dynaddr advice: what re-selection could do for @sk. */
static const char *tcd_dynaddr_hint(struct sock *sk, int dynaddr)
{
	if (tcd_is_v6(sk))
		return TCD_HINT_DYN_V6;
	if (sk->sk_userlocks & SOCK_BINDADDR_LOCK)
		return TCD_HINT_DYN_BOUND;
	if (!tcd_route_without_saddr(sk))
		return TCD_HINT_DYN_NOROUTE;
	return dynaddr > 0 ? TCD_HINT_DYN_NONE : TCD_HINT_DYN_OFF;
}

/*
 * Is @sk's cached route still valid (__sk_dst_check() without its side
 * effect)? Then rebuild_header() returns 0 at once and re-routes nothing.
 */
static bool tcd_route_still_valid(struct sock *sk)
{
	struct dst_entry *dst;
	bool valid;

	rcu_read_lock();
	dst = rcu_dereference(sk->sk_dst_cache);
	valid = dst && (!READ_ONCE(dst->obsolete) ||
			dst->ops->check(dst, tcd_sk_dst_cookie(sk)));
	rcu_read_unlock();
	return valid;
}

/*
 * Re-routes are watched where only retransmissions go:
 * __tcp_retransmit_skb() calls the socket's rebuild_header() and turns its
 * failure into -EHOSTUNREACH, after rebuild_header() stored the route error
 * in sk_err_soft. GCC inlines it into its two callers, which are probed
 * instead: tcp_retransmit_skb() (retransmit timer, loss recovery) and
 * tcp_send_loss_probe() (an established connection's first retransmission
 * is often its tail loss probe). rebuild_header() itself runs on every
 * healthy connection (tcp_init_transfer(), both ends): probing it cost
 * three kprobe hits per connection; a connection that never retransmits
 * costs nothing here. A socket whose route is still valid will not
 * re-route: its return is skipped.
 */
static int tcd_rtx_save(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock **skp = (void *)ri->data;

	*skp = (struct sock *)tcd_arg(regs, 0);
	return (*skp)->sk_protocol != IPPROTO_TCP || tcd_route_still_valid(*skp);
}

static int tcd_rtx_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_RETRANSMIT);
	return tcd_rtx_save(ri, regs);
}

static int tcd_tlp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_LOSS_PROBE);
	return tcd_rtx_save(ri, regs);
}

static int tcd_rebuild_result(struct sock *sk, int ret);

static int tcd_rtx_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;
	int ret = (int)regs_return_value(regs);

	/* Not re-routed: the skb was still queued, or memory was short. */
	if (ret == -EBUSY || ret == -EAGAIN || ret == -ENOMEM || ret == -EINVAL)
		return 0;
	if (ret == -EHOSTUNREACH && !tcd_route_still_valid(sk))
		return tcd_rebuild_result(sk, -(READ_ONCE(sk->sk_err_soft) ? : EHOSTUNREACH));
	return tcd_rebuild_result(sk, 0);
}

/*
 * tcp_send_loss_probe() returns nothing: the route tells. Still invalid,
 * the re-route failed (or no segment could be sent); valid again, it
 * succeeded, which for IPv6 may be from a source the host lost.
 */
static int tcd_tlp_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if (!tcd_route_still_valid(sk))
		return tcd_rebuild_result(sk, -(READ_ONCE(sk->sk_err_soft) ? : EHOSTUNREACH));
	return tcd_rebuild_result(sk, 0);
}

/* What the re-route of @sk returned (@ret: rebuild_header()'s error, or 0). */
static int tcd_rebuild_result(struct sock *sk, int ret)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcd_thread owner = { .comm = "?" };
	unsigned int total_ms = 0, elapsed_ms = 0, giveup_s = 0;
	int state = READ_ONCE(sk->sk_state);
	struct tcd_endpoint src, dst;
	struct tcd_line line;
	struct tcd_entry *e;
	unsigned long flags;
	int retries, dynaddr;
	bool alert = false, saddr_gone;
	u8 retransmits;
	u32 ev;
	u64 now;

	if (!ret) {
		/* IPv6 re-routes a fixed source it no longer owns without error. */
		if (!tcd_is_v6(sk) || tcd_saddr_is_local(sk))
			return 0;
		saddr_gone = true;
	} else {
		saddr_gone = !tcd_saddr_is_local(sk);
	}
	ev = saddr_gone ? TCD_EV_SADDR_LOST : TCD_EV_ROUTE_LOST;
	/* The timer runs in softirq: the owner is the thread blocked on the socket. */
	tcd_waiters_of(sk, 0, TCD_W_CONNECT, &owner, 1);
	retries = icsk->icsk_syn_retries ? : tcd_tcp_syn_retries(sock_net(sk));
	dynaddr = tcd_ip_dynaddr(sock_net(sk));
	now = ktime_get_ns();
	if (state == TCP_SYN_SENT) {
		total_ms = tcd_syn_giveup_s(sk, retries) * 1000u;
		if (icsk->icsk_user_timeout)
			total_ms = min(total_ms, icsk->icsk_user_timeout);
		/* Since the first SYN: tcp_connect() stamps retrans_stamp. */
		elapsed_ms = tcd_retrans_elapsed_ms(sk, now);
		if (total_ms > elapsed_ms)
			giveup_s = DIV_ROUND_CLOSEST(total_ms - elapsed_ms, 1000u);
	}
	/*
	 * The RTO timer counts the retransmission before sending it, so this
	 * is the number of retransmissions including the one that just failed
	 * (TCP_INFO's tcpi_retransmits), on 5.10, 6.1 and 6.12 alike.
	 */
	retransmits = icsk->icsk_retransmits;
	tcd_endpoints_from_sk(sk, &src, &dst);

	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(sk);
	/*
	 * One alert per socket and stall, but a route-lost is corrected when a
	 * later re-route finds the source gone: while an address is deleted
	 * its routes can go a moment before the address stops counting as
	 * local (__ip_dev_find() falls back to the local table), and a
	 * retransmission in that moment sees only the lost route.
	 */
	if (!(e->events & TCD_EV_STALLED) || (e->events & TCD_EV_STALL_ENDED) ||
	    ((e->events & TCD_EV_ROUTE_LOST) && saddr_gone)) {
		e->events &= ~(TCD_EV_STALL_ENDED | TCD_EV_STALLED);
		e->events |= ev;
		e->lost_ns = now;
		/* For a connect() that a signal interrupted and the kernel restarted. */
		e->handshake_ns = now - (u64)elapsed_ms * NSEC_PER_MSEC;
		e->route_err = ret;
		e->lost_state = state;
		e->state = state;
		e->retransmits = retransmits;
		e->syn_retries = retries;
		e->connector = owner;
		e->src = src;
		e->dst = dst;
		alert = true;
	}
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	if (!alert)
		return 0;
	tcd_count(saddr_gone ? TCD_C_SADDR_LOST : TCD_C_ROUTE_LOST);

	tcd_line_start(&line, saddr_gone ? "saddr-lost" : "route-lost", &owner, sk->sk_family,
		       &src, &dst, ret);
	tcd_line_owner(&line, sk);
	tcd_line_add(&line, " state=%s retransmits=%u", tcd_state_name(state), retransmits);
	if (state == TCP_SYN_SENT)
		tcd_line_add(&line, " syn_retries=%d user_timeout_ms=%u giveup_in_s=%u",
			     retries, icsk->icsk_user_timeout, giveup_s);
	if (dynaddr >= 0)
		tcd_line_add(&line, " ip_dynaddr=%d", dynaddr);
	else
		tcd_line_add(&line, " ip_dynaddr=unknown");
	if (!saddr_gone)	/* The source is fine: ip_dynaddr has nothing to re-select. */
		tcd_alert(&line, TCD_A_SADDR, state != TCP_SYN_SENT ? TCD_HINT_ROUTE_EST :
			  owner.kind == TCD_W_CONNECT ? TCD_HINT_ROUTE : TCD_HINT_ROUTE_NB, NULL);
	else if (!ret)
		tcd_alert(&line, TCD_A_SADDR, TCD_HINT_SADDR_V6, NULL);
	else if (state == TCP_SYN_SENT)	/* nobody in connect(): a non-blocking one */
		tcd_alert(&line, TCD_A_SADDR,
			  owner.kind == TCD_W_CONNECT ? TCD_HINT_SADDR : TCD_HINT_SADDR_NB,
			  tcd_dynaddr_hint(sk, dynaddr));
	else
		tcd_alert(&line, TCD_A_SADDR, TCD_HINT_SADDR_EST, NULL);
	return 0;
}

/*
 * The hub's connect() return, under tcd_lock: did a stall of this socket
 * end? -ERESTARTSYS: a signal interrupted connect() and the kernel
 * restarts it; the caller never sees this return and the stall goes on. A
 * blocking connect() entering in SS_CONNECTING (that restart, or a retry
 * after EINTR) waits for the same handshake, maybe lost before it began; a
 * non-blocking caller polling with connect() never stalled.
 */
bool tcd_stall_on_connect(struct tcd_entry *e, const struct tcd_connect_call *c, int ret,
			  const struct tcd_thread *me, u64 now)
{
	u64 start = c->start_ns;

	if (!(e->events & TCD_EV_STALLED) || (e->events & TCD_EV_STALL_ENDED) ||
	    ret == -ERESTARTSYS ||
	    (e->lost_ns < c->start_ns &&
	     (c->sock_state != SS_CONNECTING || c->nonblock)))
		return false;
	/* A restarted connect(): the stall began with the handshake. */
	if (e->handshake_ns && e->handshake_ns < start)
		start = e->handshake_ns;
	e->connector = *me;
	e->events |= TCD_EV_STALL_ENDED;
	e->stall_ns = now - start;
	e->stall_err = ret;
	return true;
}

void tcd_stall_alert(struct sock *sk, const struct tcd_entry *e, int ret, u64 now)
{
	struct tcd_line line;

	tcd_count(TCD_C_STALL_ENDED);
	tcd_line_start(&line, "stall-ended", &e->connector, e->family, &e->src, &e->dst, ret);
	tcd_line_owner(&line, sk);
	tcd_line_add(&line, " stalled_ms=%llu after_lost_ms=%llu lost=%s",
		     div_u64(e->stall_ns, NSEC_PER_MSEC), div_u64(now - e->lost_ns, NSEC_PER_MSEC),
		     e->events & TCD_EV_ROUTE_LOST ? "route" : "saddr");
	tcd_alert(&line, TCD_A_SADDR, e->events & TCD_EV_ROUTE_LOST ?
		  TCD_HINT_STALL_ROUTE : TCD_HINT_STALL_SADDR, TCD_HINT_STALL);
}

static const struct tcd_probe_desc tcd_saddr_descs[] = {
	{
		.id = TCD_P_RETRANSMIT,
		.symbol = "tcp_retransmit_skb",
		.entry = tcd_rtx_entry,
		.ret = tcd_rtx_ret,
		.data_size = sizeof(struct sock *),
	},
	{
		.id = TCD_P_LOSS_PROBE,
		.symbol = "tcp_send_loss_probe",
		.entry = tcd_tlp_entry,
		.ret = tcd_tlp_ret,
		.data_size = sizeof(struct sock *),
	},
};

const struct tcd_probe_set tcd_saddr_probes = {
	tcd_saddr_descs, ARRAY_SIZE(tcd_saddr_descs)
};
