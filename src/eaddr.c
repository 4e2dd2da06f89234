// SPDX-License-Identifier: GPL-2.0
/*
 * EADDRNOTAVAIL from __inet_hash_connect(): either no ephemeral port was
 * left (range, TIME_WAIT, tcp_tw_reuse) or the socket was bound to a port
 * whose 4-tuple is still held by another connection.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/jiffies.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/inet_timewait_sock.h>
#include <net/tcp.h>
#include <net/l3mdev.h>
#include <linux/bitmap.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_HINT_EXHAUSTED "ephemeral ports exhausted for this destination: widen net.ipv4.ip_local_port_range, enable net.ipv4.tcp_tw_reuse, or reuse connections (keep-alive/pooling)"
#define TCD_HINT_BOUND "the bound source port's 4-tuple to this destination is still in use: do not bind() before connect(), or set IP_BIND_ADDRESS_NO_PORT"

/* Per-destination budget: one alert per destination per this many seconds. */
#define TCD_DEST_ALERT_INTERVAL (5 * HZ)

/*
 * The source a connect() had when it failed after choosing its route
 * (SYN_SENT -> CLOSE, failed.c's tracepoint), noted for the hub's
 * connect() return: by then a failed connect has cleared the socket's
 * source (inet_bhash2_reset_saddr(), 6.1+). One slot per socket hash,
 * written lock-free (a per-slot sequence, odd while written). Only
 * connects that fail after routing write one, so the success path never
 * pays for it (a kprobe on __inet_hash_connect() did, on every connect).
 */
#define TCD_HASH_NOTE_BITS 6

struct tcd_hash_note {
	unsigned int seq;
	pid_t pid;
	const void *sk;
	u64 ns;
	__be32 saddr4, daddr4;	/* the IPv4 4-tuple (also of a v4-mapped socket) */
	struct tcd_endpoint src, dst;
};

static struct tcd_hash_note tcd_hash_notes[1 << TCD_HASH_NOTE_BITS];

static struct tcd_dest tcd_dests[TCD_MAX_DESTS];
/*
 * Bound-port conflicts are not exhaustion: they stay out of the /proc list
 * (it answers "which upstream eats the port range") but get the same
 * per-destination alert budget from this private list.
 */
static struct tcd_dest tcd_bound_dests[TCD_MAX_DESTS];
static DEFINE_RAW_SPINLOCK(tcd_dest_lock);

bool tcd_dest_copy_at(unsigned int idx, struct tcd_dest *out)
{
	unsigned long flags;
	bool used;

	if (idx >= TCD_MAX_DESTS)
		return false;
	raw_spin_lock_irqsave(&tcd_dest_lock, flags);
	*out = tcd_dests[idx];
	used = out->count != 0;
	raw_spin_unlock_irqrestore(&tcd_dest_lock, flags);
	return used;
}

void tcd_dests_clear_netns(u64 netns)
{
	unsigned long flags;
	int i;

	raw_spin_lock_irqsave(&tcd_dest_lock, flags);
	for (i = 0; i < TCD_MAX_DESTS; i++) {
		if (tcd_dests[i].netns == netns)
			memset(&tcd_dests[i], 0, sizeof(tcd_dests[i]));
		if (tcd_bound_dests[i].netns == netns)
			memset(&tcd_bound_dests[i], 0, sizeof(tcd_bound_dests[i]));
	}
	raw_spin_unlock_irqrestore(&tcd_dest_lock, flags);
}

/*
 * Count a failure against @dst in @list and decide whether it may alert.
 * The list keeps the busiest destinations: a new one replaces the entry
 * with the fewest failures (oldest on ties). The global budget is asked
 * only when the destination's own budget allows, under our lock, so that a
 * globally dropped alert neither spends the destination's 5 s slot nor
 * loses its suppressed count: every unprinted failure is reported as
 * suppressed=N on the destination's next printed line.
 */
static bool tcd_dest_hit(struct tcd_dest *list, u16 family, const struct tcd_endpoint *dst,
			 u64 netns, u64 *count, unsigned int *suppressed)
{
	struct tcd_dest *d, *victim = &list[0];
	unsigned int gsupp;
	unsigned long flags;
	bool alert = false;
	int i;

	raw_spin_lock_irqsave(&tcd_dest_lock, flags);
	for (i = 0; i < TCD_MAX_DESTS; i++) {
		d = &list[i];
		if (d->count && d->family == family && d->netns == netns &&
		    d->ep.port == dst->port && !memcmp(&d->ep.addr, &dst->addr, sizeof(d->ep.addr)))
			goto found;
		if (!d->count ||
		    (victim->count &&
		     tcd_evict_before(d->count, d->last_ns, victim->count, victim->last_ns)))
			victim = d;
	}
	d = victim;
	memset(d, 0, sizeof(*d));
	d->family = family;
	d->ep = *dst;
	d->netns = netns;
found:
	d->count++;
	d->last_ns = ktime_get_ns();
	if (d->last_alert && !time_after(jiffies, d->last_alert + TCD_DEST_ALERT_INTERVAL))
		tcd_count(TCD_C_ALERTS_SUPPRESSED);
	else	/* its own dropped count is not used: each drop is counted below */
		alert = tcd_alert_allowed(TCD_A_EADDR, &gsupp);
	if (alert) {
		d->last_alert = jiffies ? jiffies : 1;
		*suppressed = d->suppressed;
		d->suppressed = 0;
	} else {
		d->suppressed++;
	}
	*count = d->count;
	raw_spin_unlock_irqrestore(&tcd_dest_lock, flags);
	return alert;
}

/*
 * A v4-mapped connect on an AF_INET6 socket goes through tcp_v4_connect():
 * the 4-tuple lives in the IPv4 fields and the IPv4 established hash.
 */
static bool tcd_v4mapped(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	return sk->sk_family == AF_INET6 && ipv6_addr_v4mapped(&sk->sk_v6_daddr);
#else
	return false;
#endif
}

/*
 * TCP state of the connection holding our 4-tuple, or -1. The lookup takes
 * a reference (full or timewait socket) that we drop before returning.
 */
static int tcd_holder_state(struct sock *sk, const struct tcd_hash_note *d, u16 port,
			    const struct tcd_endpoint *src, const struct tcd_endpoint *dst)
{
	struct inet_hashinfo *hinfo = tcd_net_hashinfo(sock_net(sk));
	struct net *net = sock_net(sk);
	int dif = sk->sk_bound_dev_if;
	/* As __inet_check_established() does: the VRF of a bound device. */
	int sdif = l3mdev_master_ifindex_by_index(net, dif);
	struct sock *holder = NULL;
	int state = -1;

	if (!hinfo)
		return -1;
	rcu_read_lock();
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&dst->addr.v6))
		holder = tcd_lookup_established6(net, hinfo, &dst->addr.v6, htons(dst->port),
						 &src->addr.v6, port, dif, sdif);
	else
#endif
		holder = tcd_lookup_established4(net, hinfo, d->daddr4, htons(dst->port),
						 d->saddr4, port, dif, sdif);
	if (holder) {
		state = holder->sk_state == TCP_TIME_WAIT ?
			inet_twsk(holder)->tw_substate : holder->sk_state;
		sock_gen_put(holder);
	}
	rcu_read_unlock();
	return state;
}

/*
 * How many ports __inet_hash_connect() tried: the range, less one when it
 * scans an odd range by parity (step 2, an even count), less the ports in
 * net.ipv4.ip_local_reserved_ports (*reserved).
 */
static int tcd_ports_scanned(struct net *net, int low, int high, int step, int *reserved)
{
	int n = high - low + 1;

	if (step == 2 && n > 1)
		n &= ~1;
	*reserved = 0;
#ifdef CONFIG_SYSCTL
	if (net->ipv4.sysctl_local_reserved_ports && low <= high)
		*reserved = bitmap_weight(net->ipv4.sysctl_local_reserved_ports, high + 1) -
			    bitmap_weight(net->ipv4.sysctl_local_reserved_ports, low);
#endif
	return max(n - *reserved, 0);
}

/* SYN_SENT -> CLOSE with no error: note what the hub will need. */
void tcd_eaddr_note(struct sock *sk)
{
	struct tcd_hash_note *w = &tcd_hash_notes[hash_ptr(sk, TCD_HASH_NOTE_BITS)];
	unsigned int seq = READ_ONCE(w->seq);

	if ((seq & 1) || cmpxchg(&w->seq, seq, seq + 1) != seq)
		return;
	smp_wmb();
	w->sk = sk;
	w->pid = current->pid;
	w->ns = ktime_get_ns();
	w->saddr4 = inet_sk(sk)->inet_saddr;
	w->daddr4 = inet_sk(sk)->inet_daddr;
	/*
	 * Zero first: an IPv4 address fills 4 of the union's 16 bytes, and
	 * the destination list compares (and keeps) all of them.
	 */
	memset(&w->src, 0, sizeof(w->src));
	memset(&w->dst, 0, sizeof(w->dst));
	tcd_endpoints_from_sk(sk, &w->src, &w->dst);
#if IS_ENABLED(CONFIG_IPV6)
	/* The IPv6 source is only filled in after tcp_v4_connect() returns. */
	if (tcd_v4mapped(sk))
		ipv6_addr_set_v4mapped(w->saddr4, &w->src.addr.v6);
#endif
	smp_wmb();
	WRITE_ONCE(w->seq, seq + 2);
}

/* This thread's note for @sk since @since, if no other connect overwrote it. */
static bool tcd_hash_note_get(const struct sock *sk, u64 since, struct tcd_hash_note *out)
{
	struct tcd_hash_note *w = &tcd_hash_notes[hash_ptr(sk, TCD_HASH_NOTE_BITS)];
	unsigned int seq = READ_ONCE(w->seq);

	if (seq & 1)
		return false;
	smp_rmb();
	*out = *w;
	smp_rmb();
	return READ_ONCE(w->seq) == seq && out->sk == sk && out->pid == current->pid &&
	       out->ns >= since;
}

/*
 * The hub: connect() returned EADDRNOTAVAIL. It came from
 * __inet_hash_connect() when this call noted a failure after routing (a
 * route without a usable source fails before SYN_SENT, with the same
 * errno, and is not ours). The bound port is the one connect() began with.
 */
void tcd_eaddr_on_connect(const struct tcd_connect_call *c)
{
	struct sock *sk = c->sk;
	struct tcd_hash_note note, *d = &note;
	struct tcd_endpoint src, dst;
	struct tcd_thread me;
	struct tcd_line line;
	unsigned int supp = 0;
	const char *hint;
	u16 family;
	u64 count;
	bool alert;
	int ret = -EADDRNOTAVAIL;

	if (!tcd_hash_note_get(sk, c->start_ns, &note))
		return;
	family = sk->sk_family;
	src = d->src;
	src.port = c->bound_port;
	dst = d->dst;
	tcd_thread_current(&me);

	if (c->bound_port) {
		int state = tcd_holder_state(sk, d, c->bound_port, &src, &dst);

		tcd_count(TCD_C_EADDR_BOUND);
		alert = tcd_dest_hit(tcd_bound_dests, family, &dst, tcd_netns_id(sock_net(sk)),
				     &count, &supp);
		tcd_line_start(&line, "eaddrnotavail", &me, family, &src, &dst, ret);
		tcd_line_owner(&line, sk);
		tcd_line_add(&line, " cause=bound-port-in-use port=%u reuseaddr=%d holder_state=%s",
			     c->bound_port, sk->sk_reuse,
			     state < 0 ? "none-found" : tcd_state_name(state));
		hint = TCD_HINT_BOUND;
	} else {
		int low, high, ports, reserved, step;
		bool own;

		step = tcd_local_port_range(sk, &low, &high, &own);

		tcd_count(TCD_C_EADDR_EPHEMERAL);
		alert = tcd_dest_hit(tcd_dests, family, &dst, tcd_netns_id(sock_net(sk)),
				     &count, &supp);
		tcd_line_start(&line, "eaddrnotavail", &me, family, &src, &dst, ret);
		tcd_line_owner(&line, sk);
		ports = tcd_ports_scanned(sock_net(sk), low, high, step, &reserved);
		tcd_line_add(&line, " cause=ephemeral-exhausted range=%d-%d ports=%d reserved=%d range_from=%s tw_reuse=%d time_wait=%d dest_failures=%llu",
			     low, high, ports, reserved, own ? "socket" : "sysctl",
			     tcd_tcp_tw_reuse(sock_net(sk)),
			     tcd_tw_count(&sock_net(sk)->ipv4.tcp_death_row), count);
		hint = TCD_HINT_EXHAUSTED;
	}
	if (alert)
		tcd_alert_print(&line, supp, hint, NULL);
}
