// SPDX-License-Identifier: GPL-2.0
/*
 * Why did this connect() fail, and whose was it? (connect-failed)
 *
 * A handshake that fails ends in tcp_done() with sk_err set (RST:
 * ECONNREFUSED; SYN retries out: ETIMEDOUT, or the soft ICMP error; ICMP
 * error: its errno); its state change SYN_SENT -> CLOSE (the
 * inet_sock_set_state tracepoint) comes before anything clears the
 * addresses or the route: that explains blocking and non-blocking
 * connects alike. A blocking connect() is asleep there, so the thread
 * comes from waiters.c and its slot is marked reported; a non-blocking
 * one's caller from a small lock-free cache its EINPROGRESS return filled.
 * Failures connect() returns without a handshake (no route, a hook's
 * EPERM, EADDRNOTAVAIL, a wedged socket) come from the hub (connect.c).
 * tcp_v4_err()/tcp_v6_err() entries remember recent ICMP errors by 4-tuple
 * so the line can say who sent which.
 *
 * Volume: one line per destination and cause per alert_interval, then
 * "suppressed=N" on the next; alert_burst lines per interval in all. Every
 * failure counts once in failed-printed or failed-suppressed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/ktime.h>
#include <linux/jiffies.h>
#include <linux/icmp.h>
#include <linux/in6.h>
#include <net/icmp.h>
#include <net/tcp.h>
#include <net/route.h>
#include <net/ip6_fib.h>
#include <net/ipv6.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include "tcd.h"
#include "tcd_compat.h"

const char *const tcd_cause_names[TCD_F_NR] = {
	[TCD_F_NO_LISTENER] = "no-listener",
	[TCD_F_PEER_RESET] = "peer-reset",
	[TCD_F_BACKLOG_FULL] = "listener-backlog-full",
	[TCD_F_NO_SYNACK] = "no-synack",
	[TCD_F_ICMP] = "icmp-unreachable",
	[TCD_F_NO_ROUTE] = "no-route",
	[TCD_F_SADDR_LOST] = "saddr-lost",
	[TCD_F_ROUTE_LOST] = "route-lost",
	[TCD_F_DENIED] = "denied",
	[TCD_F_OTHER] = "other",
	[TCD_F_EADDRNOTAVAIL] = "eaddrnotavail",
	[TCD_F_WEDGED] = "wedged",
};

static const char *const tcd_cause_hints[TCD_F_NR] = {
	[TCD_F_NO_LISTENER] = "nothing listens on this port of this host: start the service, or fix the port the client uses",
	[TCD_F_PEER_RESET] = "the destination host answered with a reset: nothing listens on that port there, or a firewall rejects with tcp-reset",
	[TCD_F_BACKLOG_FULL] = "the local listener's accept queue is full, so its SYNs were dropped: the server does not accept() fast enough; raise its listen() backlog (and net.core.somaxconn) or add workers",
	[TCD_F_NO_SYNACK] = "no answer to any SYN: the destination is down or unreachable, or a firewall drops the packets on the way (check the route via dev and via)",
	[TCD_F_ICMP] = "a router or the destination sent an ICMP error (icmp_from): no route or a reject rule there",
	[TCD_F_NO_ROUTE] = "no usable route to the destination at connect() time (none, or an unreachable/prohibit route): check ip route (and the socket's bound device or mark)",
	[TCD_F_SADDR_LOST] = "the handshake died after the socket's source address vanished (see the saddr-lost alert)",
	[TCD_F_ROUTE_LOST] = "the handshake died after the route to the destination vanished (see the route-lost alert)",
	[TCD_F_DENIED] = "refused before any packet left, by a BPF program on the socket's cgroup connect hook (hook=cgroup-bpf: see bpftool cgroup tree)",
	[TCD_F_OTHER] = "see err",
	[TCD_F_EADDRNOTAVAIL] = "no usable source port: see the eaddrnotavail alert for this destination",
	[TCD_F_WEDGED] = "the socket is wedged in SS_DISCONNECTING: see the connect-on-poisoned alert; close and recreate it",
};

/* ---- who started a non-blocking connect ------------------------------- */

/*
 * One slot per socket hash, overwritten by later connects: a store on the
 * success path, no lock (a per-slot sequence, odd while written) and no
 * allocation. A slot lost to a collision only leaves pid=? on a line.
 */
#define TCD_CALLER_BITS 6

struct tcd_caller {
	unsigned int seq;
	const void *sk;
	unsigned long ino;
	struct tcd_thread t;
};

static struct tcd_caller tcd_callers[1 << TCD_CALLER_BITS];

/* The socket's inode number: tells a socket from a later one at @sk's address. */
static unsigned long tcd_sock_ino(const struct sock *sk)
{
	struct socket *sock;
	unsigned long ino = 0;

	rcu_read_lock();
	sock = READ_ONCE(sk->sk_socket);
	if (sock)
		ino = SOCK_INODE(sock)->i_ino;
	rcu_read_unlock();
	return ino;
}

void tcd_failed_note_caller(const struct tcd_connect_call *c)
{
	struct tcd_caller *w = &tcd_callers[hash_ptr(c->sk, TCD_CALLER_BITS)];
	unsigned int seq = READ_ONCE(w->seq);

	/* Another CPU is writing it: this caller goes unnamed. */
	if ((seq & 1) || cmpxchg(&w->seq, seq, seq + 1) != seq)
		return;
	smp_wmb();
	w->sk = c->sk;
	w->ino = SOCK_INODE(c->sk->sk_socket)->i_ino;
	w->t.pid = current->pid;
	w->t.tgid = current->tgid;
	w->t.kind = TCD_W_NONE;
	memcpy(w->t.comm, current->comm, TASK_COMM_LEN);
	smp_wmb();
	WRITE_ONCE(w->seq, seq + 2);
}

static bool tcd_caller_find(const struct sock *sk, struct tcd_thread *t)
{
	struct tcd_caller *w = &tcd_callers[hash_ptr(sk, TCD_CALLER_BITS)];
	unsigned int seq = READ_ONCE(w->seq);
	unsigned long ino;
	const void *key;

	if (seq & 1)
		return false;
	smp_rmb();
	key = w->sk;
	ino = w->ino;
	*t = w->t;
	smp_rmb();
	if (READ_ONCE(w->seq) != seq || key != sk || !ino || ino != tcd_sock_ino(sk))
		return false;
	tcd_thread_sanitize(t);
	return true;
}

/* ---- recent ICMP errors ---------------------------------------------- */

#define TCD_ICMP_RECENT 16
/* Longer than any SYN retry period: a soft error is used when it runs out. */
#define TCD_ICMP_MAX_AGE_NS (300ULL * NSEC_PER_SEC)

struct tcd_icmp {
	u64 ns;
	u16 family;
	u8 type, code;
	__be16 sport, dport;
	union tcd_addr src, dst, from;
};

static struct tcd_icmp tcd_icmps[TCD_ICMP_RECENT];
static unsigned int tcd_icmp_next;
static DEFINE_RAW_SPINLOCK(tcd_icmp_lock);

/*
 * Remember @r; @err is the errno tcp_v[46]_err() makes of it. When the
 * connecting socket is owned by its connect() at that moment (the ICMP
 * came back within the syscall: veth, loopback routes), the kernel only
 * stores a soft error: SO_ERROR returns it while the handshake goes on,
 * and an application that then gives up leaves no tcp_done(). Mark such a
 * socket's row; its destruction reports the failure.
 */
static void tcd_icmp_add(struct sk_buff *skb, const struct tcd_icmp *r, int err)
{
	struct net *net = dev_net(skb->dev);
	struct tcd_entry *e;
	unsigned long flags;
	struct sock *sk;

	raw_spin_lock_irqsave(&tcd_icmp_lock, flags);
	tcd_icmps[tcd_icmp_next++ % TCD_ICMP_RECENT] = *r;
	raw_spin_unlock_irqrestore(&tcd_icmp_lock, flags);
	if (!err)
		return;
	/* The socket the quoted SYN came from, as tcp_v[46]_err() finds it. */
	rcu_read_lock();
#if IS_ENABLED(CONFIG_IPV6)
	if (r->family == AF_INET6)
		sk = tcd_lookup_established6(net, tcd_net_hashinfo(net), &r->dst.v6, r->dport,
					     &r->src.v6, ntohs(r->sport), skb->skb_iif, 0);
	else
#endif
		sk = tcd_lookup_established4(net, tcd_net_hashinfo(net), r->dst.v4, r->dport,
					     r->src.v4, ntohs(r->sport), skb->skb_iif, 0);
	rcu_read_unlock();
	if (!sk)
		return;
	if (sk_fullsock(sk) && READ_ONCE(sk->sk_state) == TCP_SYN_SENT && tcd_is_tcp(sk) &&
	    sock_owned_by_user_nocheck(sk)) {
		raw_spin_lock_irqsave(&tcd_lock, flags);
		e = tcd_get_or_create(sk);
		e->events |= TCD_EV_SOFT_ERR;
		e->soft_err = -err;
		raw_spin_unlock_irqrestore(&tcd_lock, flags);
	}
	sock_gen_put(sk);
}

/*
 * tcp_v4_err(skb, info): skb->data is the quoted IP header of our SYN,
 * followed by at least 8 bytes of its TCP header (icmp_socket_deliver()
 * pulled them); the network header is the ICMP packet's own.
 */
static int tcd_v4_err_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)tcd_arg(regs, 0);
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + (iph->ihl << 2));
	struct tcd_icmp r = { .family = AF_INET };
	int err = 0;

	tcd_hit(TCD_P_V4_ERR);
	r.ns = ktime_get_ns();
	r.type = icmp_hdr(skb)->type;
	r.code = icmp_hdr(skb)->code;
	r.src.v4 = iph->saddr;
	r.dst.v4 = iph->daddr;
	r.sport = th->source;
	r.dport = th->dest;
	r.from.v4 = ip_hdr(skb)->saddr;
	if (r.type == ICMP_DEST_UNREACH && r.code <= NR_ICMP_UNREACH)
		err = icmp_err_convert[r.code].errno;
	else if (r.type == ICMP_TIME_EXCEEDED)
		err = EHOSTUNREACH;
	else if (r.type == ICMP_PARAMETERPROB)
		err = EPROTO;
	tcd_icmp_add(skb, &r, err);
	return 0;
}

/* tcp_v6_err(skb, opt, type, code, offset, info): the same for IPv6. */
static int tcd_v6_err_pre(struct kprobe *p, struct pt_regs *regs)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct sk_buff *skb = (struct sk_buff *)tcd_arg(regs, 0);
	const struct ipv6hdr *hdr = (const struct ipv6hdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + (int)tcd_arg(regs, 4));
	struct tcd_icmp r = { .family = AF_INET6 };
	int err = 0;

	tcd_hit(TCD_P_V6_ERR);
	r.ns = ktime_get_ns();
	r.type = (u8)tcd_arg(regs, 2);
	r.code = (u8)tcd_arg(regs, 3);
	r.src.v6 = hdr->saddr;
	r.dst.v6 = hdr->daddr;
	r.sport = th->source;
	r.dport = th->dest;
	r.from.v6 = ipv6_hdr(skb)->saddr;
	/* Only errors; icmpv6_err_convert() says whether it is fatal, not whether it is one. */
	if (r.type < ICMPV6_INFOMSG_MASK && r.type != ICMPV6_PKT_TOOBIG) {
		icmpv6_err_convert(r.type, r.code, &err);
		tcd_icmp_add(skb, &r, err);
	} else {
		tcd_icmp_add(skb, &r, 0);
	}
#endif
	return 0;
}

/* The latest ICMP error about @sk's 4-tuple, if recent. */
static bool tcd_icmp_find(const struct sock *sk, u16 family, const struct tcd_endpoint *src,
			  const struct tcd_endpoint *dst, struct tcd_icmp *out)
{
	u64 now = ktime_get_ns();
	unsigned long flags;
	bool found = false;
	unsigned int i;

	raw_spin_lock_irqsave(&tcd_icmp_lock, flags);
	for (i = 0; i < TCD_ICMP_RECENT; i++) {
		const struct tcd_icmp *r = &tcd_icmps[i];

		if (!r->ns || r->family != family || now - r->ns > TCD_ICMP_MAX_AGE_NS ||
		    ntohs(r->sport) != src->port || ntohs(r->dport) != dst->port ||
		    memcmp(&r->dst, &dst->addr, sizeof(r->dst)) ||
		    memcmp(&r->src, &src->addr, sizeof(r->src)) ||
		    (found && r->ns < out->ns))
			continue;
		*out = *r;
		found = true;
	}
	raw_spin_unlock_irqrestore(&tcd_icmp_lock, flags);
	return found;
}

/* ---- failures by destination and cause ------------------------------- */

static struct tcd_failed_dest tcd_fdests[TCD_MAX_FAILED_DESTS];
static DEFINE_RAW_SPINLOCK(tcd_fdest_lock);

bool tcd_failed_copy_at(unsigned int idx, struct tcd_failed_dest *out)
{
	unsigned long flags;
	bool used;

	if (idx >= TCD_MAX_FAILED_DESTS)
		return false;
	raw_spin_lock_irqsave(&tcd_fdest_lock, flags);
	*out = tcd_fdests[idx];
	used = out->count != 0;
	raw_spin_unlock_irqrestore(&tcd_fdest_lock, flags);
	return used;
}

void tcd_failed_clear_netns(u64 netns)
{
	unsigned long flags;
	int i;

	raw_spin_lock_irqsave(&tcd_fdest_lock, flags);
	for (i = 0; i < TCD_MAX_FAILED_DESTS; i++)
		if (tcd_fdests[i].netns == netns)
			memset(&tcd_fdests[i], 0, sizeof(tcd_fdests[i]));
	raw_spin_unlock_irqrestore(&tcd_fdest_lock, flags);
}

/* One failed attempt, as the line will tell it. */
struct tcd_failure {
	u16 family;
	u8 cause;
	bool blocking;
	int err;
	u64 netns;
	struct tcd_endpoint src, dst;
	struct tcd_thread t;
	char dev[IFNAMSIZ];
	union tcd_addr via;
	bool has_route, via_gw;
	u32 syns, elapsed_ms;
	u32 acc_q, acc_max;
	bool has_icmp;
	struct tcd_icmp icmp;
	int handshake_err;	/* the socket's error, when connect() returned another */
	u32 uid;
	char cgroup[TCD_CGROUP_LEN];
	const void *key;	/* the socket, for a deferred line: identity only */
	bool cgroup_bpf;	/* a cgroup BPF connect program applies to it */
};

/*
 * A blocking connect()'s failure seen in tcp_done(), kept for its return:
 * the line then says what connect() returned (another thread's send() or
 * recv() may have consumed the socket's error first) and is formatted in
 * the caller's context. A full pool prints its oldest entry at once.
 */
#define TCD_PENDING 16

struct tcd_pending {
	const void *sk;		/* NULL: free */
	pid_t pid;
	u64 ns;
	struct tcd_failure f;
};

static struct tcd_pending tcd_pending[TCD_PENDING];
static DEFINE_RAW_SPINLOCK(tcd_pending_lock);

/*
 * Count @f against its destination and cause; returns whether it may be
 * printed, and the suppressed count the line carries. A new destination
 * replaces the entry with the fewest failures (oldest on ties); what that
 * entry had suppressed stays counted in failed-suppressed.
 */
static bool tcd_fdest_hit(const struct tcd_failure *f, const char *cgroup,
			  unsigned int *suppressed)
{
	unsigned long flags, now = jiffies;
	struct tcd_failed_dest *d, *victim = NULL;
	bool ok = false;
	int i;

	raw_spin_lock_irqsave(&tcd_fdest_lock, flags);
	for (i = 0; i < TCD_MAX_FAILED_DESTS; i++) {
		d = &tcd_fdests[i];
		if (d->count && d->netns == f->netns && d->family == f->family &&
		    d->cause == f->cause && d->ep.port == f->dst.port &&
		    !memcmp(&d->ep.addr, &f->dst.addr, sizeof(d->ep.addr)))
			break;
		if (!victim ||
		    tcd_evict_before(d->count, d->last_ns, victim->count, victim->last_ns))
			victim = d;
	}
	if (i == TCD_MAX_FAILED_DESTS) {
		d = victim;
		memset(d, 0, sizeof(*d));
		d->family = f->family;
		d->cause = f->cause;
		d->ep = f->dst;
		d->netns = f->netns;
	}
	d->count++;
	d->err = f->err;
	d->blocking = f->blocking;
	d->last_ns = ktime_get_ns();
	memcpy(d->comm, f->t.comm, sizeof(d->comm));
	strscpy(d->cgroup, cgroup, sizeof(d->cgroup));
	if (!d->last_alert || time_after_eq(now, d->last_alert + tcd_alert_interval())) {
		unsigned int global_supp = 0;

		/* The global budget bounds a storm across many destinations. */
		if (tcd_alert_allowed(TCD_A_FAILED, &global_supp)) {
			d->last_alert = now;
			*suppressed = d->suppressed;
			d->suppressed = 0;
			ok = true;
		}
	}
	if (!ok)
		d->suppressed++;
	raw_spin_unlock_irqrestore(&tcd_fdest_lock, flags);
	tcd_count(ok ? TCD_C_FAILED_PRINTED : TCD_C_FAILED_SUPPRESSED);
	return ok;
}

/*
 * EPERM inside __inet_stream_connect() comes from its pre_connect hook: the
 * cgroup BPF connect programs (an LSM refuses earlier, in the syscall, where
 * the hub never sees it). Whether one applies to @sk's cgroup: the effective
 * array (own and inherited programs) is the shared empty one otherwise.
 */
static bool tcd_cgroup_bpf_connect(const struct sock *sk)
{
#ifdef CONFIG_CGROUP_BPF
	struct cgroup *cgrp = sock_cgroup_ptr((struct sock_cgroup_data *)&sk->sk_cgrp_data);
	struct bpf_prog_array *arr;
	bool on;

	rcu_read_lock();
	arr = rcu_dereference(cgrp->bpf.effective[sk->sk_family == AF_INET6 ?
						  TCD_CGROUP_INET6_CONNECT :
						  TCD_CGROUP_INET4_CONNECT]);
	on = arr && READ_ONCE(arr->items[0].prog);
	rcu_read_unlock();
	return on;
#else
	return false;
#endif
}

/* The socket's owner, while @sk is alive: the line may be printed later. */
static void tcd_failure_owner(struct sock *sk, struct tcd_failure *f)
{
	f->uid = tcd_sk_uid(sk);
	tcd_sk_cgroup(sk, f->cgroup, sizeof(f->cgroup));
}

static void tcd_failure_report(const struct tcd_failure *f)
{
	unsigned int supp = 0;
	struct tcd_line line;
	char ip[64];

	tcd_count(TCD_C_CAUSE_FIRST + f->cause);
	if (!tcd_fdest_hit(f, f->cgroup, &supp))
		return;
	tcd_line_start(&line, "connect-failed", &f->t, f->family, &f->src, &f->dst, f->err);
	tcd_line_add(&line, " uid=%u cgroup=%s mode=%s cause=%s", f->uid, f->cgroup,
		     f->blocking ? "blocking" : "nonblocking", tcd_cause_names[f->cause]);
	if (f->handshake_err && f->handshake_err != f->err)
		tcd_line_add(&line, " handshake_err=%s", tcd_errname(f->handshake_err));
	if (f->cause == TCD_F_BACKLOG_FULL)
		tcd_line_add(&line, " accept_queue=%u/%u", f->acc_q, f->acc_max);
	if (f->cause == TCD_F_DENIED)
		tcd_line_add(&line, " hook=%s", f->cgroup_bpf ? "cgroup-bpf" : "unknown");
	if (f->cause == TCD_F_NO_SYNACK) {
		tcd_line_add(&line, " syns=%u elapsed_ms=%u", f->syns, f->elapsed_ms);
		if (f->has_route) {
			tcd_line_add(&line, " dev=%s", f->dev[0] ? f->dev : "?");
			if (f->via_gw) {
				struct tcd_endpoint gw = { .addr = f->via };

				tcd_fmt_ep(ip, sizeof(ip), f->family, &gw);
				/* The address without ":0". */
				*strrchr(ip, ':') = '\0';
				tcd_line_add(&line, " via=%s", ip[0] == '[' ? ip + 1 : ip);
			} else {
				tcd_line_add(&line, " via=direct");
			}
		}
	}
	if (f->has_icmp) {
		if (f->icmp.family == AF_INET6)
			tcd_line_add(&line, " icmp_from=%pI6c", &f->icmp.from.v6);
		else
			tcd_line_add(&line, " icmp_from=%pI4", &f->icmp.from.v4);
		tcd_line_add(&line, " icmp_type=%u icmp_code=%u", f->icmp.type, f->icmp.code);
	}
	tcd_alert_print_info(&line, supp, tcd_cause_hints[f->cause],
			     f->cause == TCD_F_OTHER && f->err == -EINTR ?
			     ": a signal interrupted connect(); the handshake goes on" : NULL);
}

/* Keep @f for the return of the blocking connect() that sleeps on @sk. */
static void tcd_failure_defer(const struct tcd_failure *f)
{
	struct tcd_pending *p, *slot = NULL;
	struct tcd_failure old;
	unsigned long flags;
	bool evicted = false;
	int i;

	raw_spin_lock_irqsave(&tcd_pending_lock, flags);
	for (i = 0; i < TCD_PENDING; i++) {
		p = &tcd_pending[i];
		if (!p->sk) {
			slot = p;
			break;
		}
		if (!slot || p->ns < slot->ns)
			slot = p;
	}
	if (slot->sk) {
		old = slot->f;
		evicted = true;
	}
	slot->sk = f->key;
	slot->pid = f->t.pid;
	slot->ns = ktime_get_ns();
	slot->f = *f;
	raw_spin_unlock_irqrestore(&tcd_pending_lock, flags);
	if (evicted)
		tcd_failure_report(&old);
}

/* This thread's kept failure for @sk, or NULL; under tcd_pending_lock. */
static struct tcd_pending *tcd_pending_mine(const struct sock *sk)
{
	int i;

	for (i = 0; i < TCD_PENDING; i++)
		if (tcd_pending[i].sk == sk && tcd_pending[i].pid == current->pid)
			return &tcd_pending[i];
	return NULL;
}

/* The failure tcp_done() kept for this thread's connect() on @sk. */
static bool tcd_failure_take(const struct sock *sk, struct tcd_failure *f)
{
	struct tcd_pending *p;
	unsigned long flags;

	raw_spin_lock_irqsave(&tcd_pending_lock, flags);
	p = tcd_pending_mine(sk);
	if (p) {
		*f = p->f;
		p->sk = NULL;
	}
	raw_spin_unlock_irqrestore(&tcd_pending_lock, flags);
	return p;
}

/* Its 4-tuple, the failure left in place for tcd_failed_on_return(). */
bool tcd_failed_peek_tuple(const struct sock *sk, struct tcd_endpoint *src,
			   struct tcd_endpoint *dst)
{
	struct tcd_pending *p;
	unsigned long flags;

	raw_spin_lock_irqsave(&tcd_pending_lock, flags);
	p = tcd_pending_mine(sk);
	if (p) {
		*src = p->f.src;
		*dst = p->f.dst;
	}
	raw_spin_unlock_irqrestore(&tcd_pending_lock, flags);
	return p;
}

/* The hub: the blocking connect() whose failure tcp_done() saw returned @ret. */
void tcd_failed_on_return(const struct tcd_connect_call *c, int ret)
{
	struct tcd_failure f;

	if (!tcd_failure_take(c->sk, &f))
		return;		/* printed already: the pool overflowed */
	if (ret) {
		f.handshake_err = f.err;
		f.err = ret;
	}
	tcd_failure_report(&f);
}

/* Is @sk's file blocking (no O_NONBLOCK)? The file is RCU-freed. */
static bool tcd_sock_blocking(const struct sock *sk)
{
	struct socket *sock;
	struct file *file;
	bool blocking = false;

	rcu_read_lock();
	sock = READ_ONCE(sk->sk_socket);
	file = sock ? READ_ONCE(sock->file) : NULL;
	if (file)
		blocking = !(READ_ONCE(file->f_flags) & O_NONBLOCK);
	rcu_read_unlock();
	return blocking;
}

/* An errno tcp_v4_err()/tcp_v6_err() set from an ICMP error. */
static bool tcd_icmp_errno(int err)
{
	switch (err) {
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EPROTO:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EOPNOTSUPP:
	case EMSGSIZE:
	case EACCES:
		return true;
	default:
		return false;
	}
}

/* The local listener of @dst, and its accept queue: false if none. */
static bool tcd_local_backlog(struct sock *sk, struct tcd_failure *f)
{
	struct net *net = sock_net(sk);
	struct sock *l = NULL;

	rcu_read_lock();
#if IS_ENABLED(CONFIG_IPV6)
	if (f->family == AF_INET6)
		l = tcd_lookup_listener6(net, &f->src.addr.v6, htons(f->src.port),
					 &f->dst.addr.v6, f->dst.port, sk->sk_bound_dev_if);
	else
#endif
		l = tcd_lookup_listener4(net, f->src.addr.v4, htons(f->src.port),
					 f->dst.addr.v4, f->dst.port, sk->sk_bound_dev_if);
	if (l && !IS_ERR(l)) {
		f->acc_q = READ_ONCE(l->sk_ack_backlog);
		f->acc_max = READ_ONCE(l->sk_max_ack_backlog);
	}
	rcu_read_unlock();
	return l && !IS_ERR(l) && f->acc_q > f->acc_max;
}

/* The route the SYNs took: device and gateway. */
static void tcd_failure_route(struct sock *sk, struct tcd_failure *f)
{
	struct dst_entry *dst;
	struct net_device *dev;

	rcu_read_lock();
	dst = rcu_dereference(sk->sk_dst_cache);
	if (dst) {
		f->has_route = true;
		dev = READ_ONCE(dst->dev);
		if (dev)
			strscpy(f->dev, dev->name, sizeof(f->dev));
#if IS_ENABLED(CONFIG_IPV6)
		if (f->family == AF_INET6) {
			const struct rt6_info *rt = (const struct rt6_info *)dst;

			f->via_gw = rt->rt6i_flags & RTF_GATEWAY;
			f->via.v6 = rt->rt6i_gateway;
		} else
#endif
		{
			const struct rtable *rt = (const struct rtable *)dst;

			f->via_gw = rt->rt_gw_family == AF_INET;
			f->via.v4 = rt->rt_gw4;
		}
	}
	rcu_read_unlock();
}

/* Cause from the errno and the destination, when nothing else tells. */
static u8 tcd_cause_of(struct net *net, const struct tcd_failure *f)
{
	switch (-f->err) {
	case ECONNREFUSED:
		return tcd_addr_is_local(net, f->family, &f->dst.addr) ? TCD_F_NO_LISTENER :
									 TCD_F_PEER_RESET;
	case ETIMEDOUT:
		return TCD_F_NO_SYNACK;
	case EPERM:
		return TCD_F_DENIED;
	case EADDRNOTAVAIL:
		return TCD_F_EADDRNOTAVAIL;
	default:
		return tcd_icmp_errno(-f->err) ? TCD_F_ICMP : TCD_F_OTHER;
	}
}

/*
 * A handshake that ended: SYN_SENT -> CLOSE, the socket unhashed and its
 * port released, its addresses still in place. tcp_done() gets here with
 * the error set (RST, SYN retries out, ICMP); tcp_v4/v6_connect()'s
 * failure path with none (eaddr.c keeps its source for the hub), a close
 * or disconnect while connecting with none either.
 */
static void tcd_handshake_ended(struct sock *sk)
{
	struct tcd_failure f;
	struct tcd_entry *e;
	unsigned long flags;
	u32 events = 0;
	int err;

	if (!tcd_is_tcp(sk))
		return;
	err = READ_ONCE(sk->sk_err);
	if (!err) {
		tcd_eaddr_note(sk);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.family = sk->sk_family;
	f.err = -err;
	f.netns = tcd_netns_id(sock_net(sk));
	tcd_endpoints_from_sk(sk, &f.src, &f.dst);
	/* A blocking connect() sleeps on it: that thread, which then stays quiet. */
	f.key = sk;
	f.blocking = tcd_waiter_report(sk, TCD_W_CONNECT, &f.t);
	/*
	 * A blocking socket with no thread registered (the registry's window
	 * was full): its connect() return reports it, from the errno alone;
	 * reporting it here too would count it twice.
	 */
	if (!f.blocking && tcd_sock_blocking(sk))
		return;
	if (!f.blocking && !tcd_caller_find(sk, &f.t))
		strscpy(f.t.comm, "?", sizeof(f.t.comm));
	f.t.kind = TCD_W_NONE;	/* the caller itself, not another waiter */

	if (tcd_table_maybe_has(sk)) {
		raw_spin_lock_irqsave(&tcd_lock, flags);
		e = tcd_lookup(sk);
		if (e) {
			events = e->events;
			/* Reported here: its destruction need not. */
			e->events &= ~TCD_EV_SOFT_ERR;
		}
		raw_spin_unlock_irqrestore(&tcd_lock, flags);
	}
	if (events & TCD_EV_SADDR_LOST) {
		f.cause = TCD_F_SADDR_LOST;
	} else if (events & TCD_EV_ROUTE_LOST) {
		f.cause = TCD_F_ROUTE_LOST;
	} else {
		f.cause = tcd_cause_of(sock_net(sk), &f);
		if ((f.cause == TCD_F_ICMP || err == ECONNREFUSED) &&
		    tcd_icmp_find(sk, f.family, &f.src, &f.dst, &f.icmp)) {
			/* A port unreachable is an ICMP error too, not a reset. */
			f.has_icmp = true;
			f.cause = TCD_F_ICMP;
		}
		if (f.cause == TCD_F_NO_SYNACK) {
			if (tcd_addr_is_local(sock_net(sk), f.family, &f.dst.addr) &&
			    tcd_local_backlog(sk, &f)) {
				f.cause = TCD_F_BACKLOG_FULL;
			} else {
				f.syns = inet_csk(sk)->icsk_retransmits + 1;
				f.elapsed_ms = tcd_retrans_elapsed_ms(sk, ktime_get_ns());
				tcd_failure_route(sk, &f);
			}
		}
	}
	tcd_failure_owner(sk, &f);
	if (f.blocking)
		tcd_failure_defer(&f);
	else
		tcd_failure_report(&f);
}

/*
 * The inet_sock_set_state tracepoint: every TCP state change, a handful
 * per connection, each a direct call costing a fraction of one kprobe hit.
 * It replaces a kprobe on tcp_done() (every connection) and one on
 * __inet_hash_connect() (every connect()). Only SYN_SENT -> CLOSE matters.
 */
static void tcd_set_state_tp(void *data, const struct sock *sk, const int oldstate,
			     const int newstate)
{
	tcd_hit(TCD_P_DONE);
	if (oldstate != TCP_SYN_SENT || newstate != TCP_CLOSE)
		return;
	/* Ours: the socket is not modified, only read. */
	tcd_handshake_ended((struct sock *)sk);
}

/* The hub, under tcd_lock: a non-blocking connect() of a socket with a row. */
void tcd_failed_on_row(struct tcd_entry *e, const struct tcd_thread *me)
{
	/* Its ICMP came within this very call: name its caller. */
	if ((e->events & TCD_EV_SOFT_ERR) && !e->connector.pid)
		e->connector = *me;
}

/*
 * The destruction of a socket an ICMP error soft-failed in SYN_SENT
 * (see tcd_icmp_add()) that tcp_done() never ended: the application gave
 * up on it, unless a segment (SYN-ACK) came since.
 */
void tcd_failed_soft_closed(struct sock *sk, const struct tcd_entry *e)
{
	struct tcd_failure f = { };

	if (READ_ONCE(tcp_sk(sk)->segs_in))
		return;
	f.family = e->family;
	f.err = e->soft_err;
	f.netns = e->netns;
	f.src = e->src;
	f.dst = e->dst;
	f.t = e->connector;
	f.t.kind = TCD_W_NONE;
	if (!f.t.pid)
		strscpy(f.t.comm, "?", sizeof(f.t.comm));
	f.cause = TCD_F_ICMP;
	f.has_icmp = tcd_icmp_find(sk, f.family, &f.src, &f.dst, &f.icmp);
	tcd_failure_owner(sk, &f);
	tcd_failure_report(&f);
}

/*
 * The hub: connect() returned @ret, an error no tcp_done() reported (the
 * call failed before or without a handshake, or tcp_done()'s was not seen).
 */
void tcd_failed_on_connect(const struct tcd_connect_call *c, int ret, int state)
{
	struct sock *sk = c->sk;
	struct tcd_failure f = { };

	f.family = sk->sk_family;
	f.err = ret;
	f.netns = tcd_netns_id(sock_net(sk));
	f.blocking = !c->nonblock;
	tcd_thread_current(&f.t);
	tcd_endpoints_from_sk(sk, &f.src, &f.dst);
	/* The destination asked for: a failed connect may have cleared the socket's. */
	if (c->uaddr && c->uaddr->sa_family == AF_INET &&
	    c->addr_len >= (int)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)c->uaddr;

		if (f.family == AF_INET6) {
			ipv6_addr_set_v4mapped(sin->sin_addr.s_addr, &f.dst.addr.v6);
		} else {
			memset(&f.dst.addr, 0, sizeof(f.dst.addr));
			f.dst.addr.v4 = sin->sin_addr.s_addr;
		}
		f.dst.port = ntohs(sin->sin_port);
	} else if (c->uaddr && c->uaddr->sa_family == AF_INET6 && f.family == AF_INET6 &&
		   c->addr_len >= SIN6_LEN_RFC2133) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)c->uaddr;

		f.dst.addr.v6 = sin6->sin6_addr;
		f.dst.port = ntohs(sin6->sin6_port);
	}
	if (ret == -EINVAL && c->sock_state == SS_DISCONNECTING && state == SS_DISCONNECTING)
		f.cause = TCD_F_WEDGED;
	else if ((ret == -ENETUNREACH || ret == -EHOSTUNREACH || ret == -EACCES) &&
		 c->sock_state == SS_UNCONNECTED)
		/* The route lookup in tcp_v[46]_connect(): none, unreachable or prohibit. */
		f.cause = TCD_F_NO_ROUTE;
	else
		f.cause = tcd_cause_of(sock_net(sk), &f);
	if (f.cause == TCD_F_DENIED)
		f.cgroup_bpf = tcd_cgroup_bpf_connect(sk);
	tcd_failure_owner(sk, &f);
	tcd_failure_report(&f);
}

static const struct tcd_probe_desc tcd_failed_descs[] = {
	{
		.id = TCD_P_DONE,
		.symbol = "inet_sock_set_state",
		.tp = tcd_set_state_tp,
	},
	{
		.id = TCD_P_V4_ERR,
		.symbol = "tcp_v4_err",
		.pre = tcd_v4_err_pre,
	},
	{
		/* static in tcp_ipv6.c: without it, IPv6 lines lack icmp_from= */
		.id = TCD_P_V6_ERR,
		.symbol = "tcp_v6_err",
		.pre = tcd_v6_err_pre,
		.optional = true,
	},
};

const struct tcd_probe_set tcd_failed_probes = {
	tcd_failed_descs, ARRAY_SIZE(tcd_failed_descs)
};
