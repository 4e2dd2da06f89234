// SPDX-License-Identifier: GPL-2.0
/*
 * The poisoned socket (connect/send race) and its relatives.
 *
 * On kernels with sk_wait_pending, a blocking connect() that fails while
 * another thread sleeps in sk_stream_wait_connect() gets -EBUSY from
 * tcp_disconnect(); __inet_stream_connect() then leaves the socket in
 * SS_DISCONNECTING and every later connect() returns EINVAL without sending a
 * SYN. shutdown() in SYN_SENT hits the same EBUSY and does not abort the
 * connect. Kernels with sk_disconnects instead fail the sleeping sender with
 * EPIPE.
 *
 * Probes: __inet_stream_connect, tcp_disconnect, sk_stream_wait_connect,
 * inet_shutdown (kretprobes) and inet_sock_destruct (kprobe, row cleanup).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/net.h>
#include <linux/ktime.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_HINT_POISON "the socket is wedged (SS_DISCONNECTING): close and recreate it; do not send() while a blocking connect() is pending (send with MSG_DONTWAIT or wait for connect to finish)"
#define TCD_HINT_EINVAL "connect() on a socket poisoned by an earlier failed connect: close and recreate the socket"
#define TCD_HINT_SHUTDOWN "shutdown() cannot abort this blocking connect(): use a non-blocking connect with poll() and a deadline, or TCP_SYNCNT/TCP_USER_TIMEOUT"
#define TCD_HINT_EPIPE "send() raced a failing connect(): wait for connect() to succeed before sending"

struct tcd_connect_ri {
	struct socket *sock;
	struct sock *sk;
	u64 start_ns;
	int sock_state;		/* sock->state at entry */
};

struct tcd_sk_ri {
	struct sock *sk;
	u64 start_ns;
	int wait_pending;
};

size_t tcd_connect_data_size(void)
{
	return sizeof(struct tcd_connect_ri);
}

size_t tcd_sk_data_size(void)
{
	return sizeof(struct tcd_sk_ri);
}

static bool tcd_is_tcp(const struct sock *sk)
{
	return sk && sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

static void tcd_count_connect_err(int err)
{
	tcd_count(TCD_C_CONNECT_FAILED);
	switch (err) {
	case -ETIMEDOUT:
		tcd_count(TCD_C_ETIMEDOUT);
		break;
	case -ECONNREFUSED:
		tcd_count(TCD_C_ECONNREFUSED);
		break;
	case -EINVAL:
		tcd_count(TCD_C_EINVAL);
		break;
	case -EADDRNOTAVAIL:
		tcd_count(TCD_C_EADDRNOTAVAIL);
		break;
	case -ENETUNREACH:
		tcd_count(TCD_C_ENETUNREACH);
		break;
	default:
		tcd_count(TCD_C_OTHER_ERR);
	}
}

int tcd_connect_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_connect_ri *d = (void *)ri->data;
	struct socket *sock = (struct socket *)tcd_arg(regs, 0);

	tcd_hit(TCD_P_CONNECT);
	d->sock = sock;
	d->sk = sock->sk;
	if (!tcd_is_tcp(d->sk))
		return 1;
	d->start_ns = ktime_get_ns();
	d->sock_state = READ_ONCE(sock->state);
	return 0;
}

static void tcd_stall_ended(struct tcd_entry *e, struct tcd_connect_ri *d, int ret,
			    u64 now, struct tcd_line *l)
{
	u64 start = d->start_ns;

	/* A restarted connect(): the stall began with the handshake (saddr.c). */
	if (e->handshake_ns && e->handshake_ns < start)
		start = e->handshake_ns;
	e->events |= TCD_EV_STALL_ENDED;
	e->stall_ns = now - start;
	e->stall_err = ret;
	tcd_count(TCD_C_STALL_ENDED);
	tcd_line_start(l, "stall-ended", &e->connector, e->family, &e->src, &e->dst, ret);
	tcd_line_add(l, " stalled_ms=%llu after_lost_ms=%llu hint=\"connect() stayed blocked after its source address vanished; use a non-blocking connect with a deadline or a lower TCP_SYNCNT\"",
		     div_u64(e->stall_ns, NSEC_PER_MSEC),
		     div_u64(now - e->lost_ns, NSEC_PER_MSEC));
}

int tcd_connect_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_connect_ri *d = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	int state = READ_ONCE(d->sock->state);
	struct tcd_line line;
	struct tcd_thread me;
	struct tcd_entry *e;
	unsigned long flags;
	bool wedged_einval;
	unsigned int supp = 0;
	enum tcd_alert_kind kind = TCD_A_POISON;
	u64 now;

	/* Fast path: ordinary success or a non-blocking start. */
	/* -ERESTARTSYS: a signal; the kernel restarts the call, the caller sees nothing. */
	if (ret == 0 || ret == -EINPROGRESS || ret == -EALREADY || ret == -ERESTARTSYS) {
		if (!tcd_table_maybe_has(d->sk))
			return 0;
	} else {
		tcd_count_connect_err(ret);
	}
	/* EINVAL from the default: branch of a socket left in SS_DISCONNECTING. */
	wedged_einval = ret == -EINVAL && d->sock_state == SS_DISCONNECTING &&
			state == SS_DISCONNECTING;
	if (!wedged_einval && state != SS_DISCONNECTING && !tcd_table_maybe_has(d->sk))
		return 0;

	tcd_thread_current(&me);
	now = ktime_get_ns();
	line.len = 0;
	spin_lock_irqsave(&tcd_lock, flags);
	e = wedged_einval ? tcd_get_or_create(d->sk) : tcd_lookup(d->sk);
	if (!e)
		goto unlock;
	e->updated_ns = now;
	if (state == SS_DISCONNECTING && ret != -EINVAL && e->ebusy_by.pid == me.pid &&
	    e->ebusy_ns >= d->start_ns && !(e->events & TCD_EV_POISONED)) {
		/* This connect's own tcp_disconnect() got EBUSY: poisoned now. */
		e->events |= TCD_EV_POISONED;
		e->connector = me;
		e->connect_err = ret;
		tcd_count(TCD_C_SOCKET_POISONED);
		tcd_line_start(&line, "socket-poisoned", &me, e->family, &e->src, &e->dst, ret);
		tcd_line_add(&line, " wait_pending=%u", e->wait_pending);
		if (e->nr_blocked)
			tcd_line_thread(&line, "waiter_", &e->blocked[0]);
		if (e->nr_blocked > 1)
			tcd_line_add(&line, " waiters=%u", e->nr_blocked);
		tcd_line_add(&line, " hint=\"%s\"", TCD_HINT_POISON);
	} else if (wedged_einval) {
		e->einval_count++;
		tcd_count(TCD_C_CONNECT_ON_POISONED);
		if (!(e->events & TCD_EV_CONNECT_ON_POISONED)) {
			e->events |= TCD_EV_CONNECT_ON_POISONED;
			tcd_line_start(&line, "connect-on-poisoned", &me, e->family, &e->src,
				       &e->dst, ret);
			tcd_line_add(&line, " cause=%s",
				     e->events & TCD_EV_POISONED ? "socket-poisoned" :
				     e->events & TCD_EV_SHUTDOWN_EBUSY ? "shutdown-ebusy" :
				     "unknown(poisoned-before-tracking)");
			if (e->events & TCD_EV_POISONED)
				tcd_line_thread(&line, "poisoned_by_", &e->connector);
			tcd_line_add(&line, " hint=\"%s\"", TCD_HINT_EINVAL);
		}
	} else if ((e->events & TCD_EV_SHUTDOWN_EBUSY) && e->connector.pid == me.pid &&
		   !e->connect_err) {
		/* The connect that shutdown() failed to abort has now ended. */
		e->connect_err = ret ? ret : 1;
		e->stall_ns = now - d->start_ns;
	}
	/*
	 * -ERESTARTSYS: a signal interrupted connect() and the kernel restarts
	 * it; the caller never sees this return and the stall goes on. A
	 * blocking connect() entering in SS_CONNECTING (that restart, or a
	 * retry after EINTR) waits for the same handshake, maybe lost before
	 * it began; a non-blocking caller polling with connect() never stalled.
	 */
	if ((e->events & TCD_EV_SADDR_LOST) && !(e->events & TCD_EV_STALL_ENDED) &&
	    ret != -ERESTARTSYS && !line.len &&
	    (e->lost_ns >= d->start_ns ||
	     (d->sock_state == SS_CONNECTING && d->sock->file &&
	      !(d->sock->file->f_flags & O_NONBLOCK)))) {
		e->connector = me;
		tcd_stall_ended(e, d, ret, now, &line);
		kind = TCD_A_SADDR;
	}
unlock:
	spin_unlock_irqrestore(&tcd_lock, flags);
	if (line.len && tcd_alert_allowed(kind, &supp)) {
		if (supp)
			tcd_line_add(&line, " suppressed=%u", supp);
		tcd_alert_emit(line.buf);
	}
	return 0;
}

int tcd_disconnect_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;

	tcd_hit(TCD_P_DISCONNECT);
	d->sk = (struct sock *)tcd_arg(regs, 0);
	if (!tcd_is_tcp(d->sk))
		return 1;
	d->wait_pending = tcd_sk_wait_pending(d->sk);
	return 0;
}

static bool tcd_thread_in(const struct tcd_thread *set, int n, pid_t pid)
{
	while (n--)
		if (set[n].pid == pid)
			return true;
	return false;
}

int tcd_disconnect_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	struct tcd_thread sleepers[TCD_MAX_WAITERS + 1];
	struct tcd_entry *e;
	unsigned long flags;
	int i, n;

	if (ret != -EBUSY) {
		/* sk_disconnects kernels: remember who disconnected under a sender. */
		if (!TCD_GUARD_POISON_POSSIBLE && !ret && tcd_table_maybe_has(d->sk)) {
			spin_lock_irqsave(&tcd_lock, flags);
			e = tcd_lookup(d->sk);
			if (e && e->nr_waiters) {
				tcd_thread_current(&e->disc_by);
				e->disc_ns = ktime_get_ns();
			}
			spin_unlock_irqrestore(&tcd_lock, flags);
		}
		return 0;
	}

	tcd_count(TCD_C_DISCONNECT_EBUSY);
	n = tcd_collect_sleepers(d->sk, sleepers, ARRAY_SIZE(sleepers));
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(d->sk);
	e->events |= TCD_EV_DISCONNECT_EBUSY;
	e->state = READ_ONCE(d->sk->sk_state);
	tcd_thread_current(&e->ebusy_by);
	e->ebusy_ns = ktime_get_ns();
	e->wait_pending = d->wait_pending;
	/* The senders recorded when they started waiting. */
	memcpy(e->blocked, e->waiters, sizeof(e->blocked));
	e->nr_blocked = e->nr_waiters;
	/*
	 * From shutdown(): the blocked connect()er is the sleeper that is not a
	 * recorded sender. From connect(): it is the current thread.
	 */
	e->connector = e->ebusy_by;
	for (i = 0; i < n; i++) {
		if (sleepers[i].pid != e->ebusy_by.pid &&
		    !tcd_thread_in(e->waiters, e->nr_waiters, sleepers[i].pid)) {
			e->connector = sleepers[i];
			break;
		}
	}
	e->connect_err = 0;
	spin_unlock_irqrestore(&tcd_lock, flags);
	return 0;
}

int tcd_wait_connect_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;
	long *timeo = (long *)tcd_arg(regs, 1);
	struct tcd_entry *e;
	unsigned long flags;

	tcd_hit(TCD_P_WAIT_CONNECT);
	d->sk = (struct sock *)tcd_arg(regs, 0);
	/* A non-blocking sender returns -EAGAIN at once: nothing to track. */
	if (!tcd_is_tcp(d->sk) || !timeo || !*timeo)
		return 1;
	d->start_ns = ktime_get_ns();
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(d->sk);
	/*
	 * Mid-handshake the 4-tuple is complete: refresh it, as a row that
	 * outlived an earlier connect() on this socket may hold the old one.
	 */
	if ((1 << READ_ONCE(d->sk->sk_state)) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		tcd_endpoints_from_sk(d->sk, &e->src, &e->dst);
	if (e->nr_waiters < TCD_MAX_WAITERS)
		tcd_thread_current(&e->waiters[e->nr_waiters++]);
	spin_unlock_irqrestore(&tcd_lock, flags);
	return 0;
}

int tcd_wait_connect_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	struct tcd_entry *e;
	struct tcd_line line;
	struct tcd_thread me;
	unsigned long flags;
	unsigned int supp = 0;
	int i;

	tcd_thread_current(&me);
	line.len = 0;
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(d->sk);
	if (!e)
		goto unlock;
	for (i = 0; i < e->nr_waiters; i++) {
		if (e->waiters[i].pid == me.pid) {
			e->waiters[i] = e->waiters[--e->nr_waiters];
			break;
		}
	}
	if (ret == -EPIPE && !TCD_GUARD_POISON_POSSIBLE && e->disc_ns >= d->start_ns &&
	    e->disc_by.pid && e->disc_by.pid != me.pid) {
		e->events |= TCD_EV_SENDER_EPIPE;
		tcd_count(TCD_C_SENDER_EPIPE);
		/*
		 * Keep the endpoints recorded when the sender started waiting:
		 * the disconnect has already cleared the source address and
		 * the destination port.
		 */
		tcd_line_start(&line, "sender-epipe", &me, e->family, &e->src, &e->dst, ret);
		tcd_line_thread(&line, "connect_", &e->disc_by);
		tcd_line_add(&line, " severity=info hint=\"%s\"", TCD_HINT_EPIPE);
	} else if (!e->events && !e->nr_waiters) {
		/* Nothing went wrong: keep the table for sockets that matter. */
		tcd_remove_entry(e);
	}
unlock:
	spin_unlock_irqrestore(&tcd_lock, flags);
	if (line.len && tcd_alert_allowed(TCD_A_EPIPE, &supp)) {
		if (supp)
			tcd_line_add(&line, " suppressed=%u", supp);
		tcd_alert_emit(line.buf);
	}
	return 0;
}

int tcd_shutdown_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;
	struct socket *sock = (struct socket *)tcd_arg(regs, 0);

	tcd_hit(TCD_P_SHUTDOWN);
	d->sk = sock->sk;
	/* Only shutdown() in SYN_SENT reaches tcp_disconnect(). */
	if (!tcd_is_tcp(d->sk) || READ_ONCE(d->sk->sk_state) != TCP_SYN_SENT)
		return 1;
	d->start_ns = ktime_get_ns();
	return 0;
}

int tcd_shutdown_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_sk_ri *d = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	struct tcd_entry *e;
	struct tcd_line line;
	unsigned long flags;
	unsigned int supp = 0;

	if (ret != -EBUSY)
		return 0;
	line.len = 0;
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(d->sk);
	if (e && e->ebusy_ns >= d->start_ns) {
		e->events |= TCD_EV_SHUTDOWN_EBUSY;
		tcd_count(TCD_C_SHUTDOWN_EBUSY);
		tcd_line_start(&line, "shutdown-ebusy", &e->ebusy_by, e->family, &e->src,
			       &e->dst, ret);
		tcd_line_add(&line, " wait_pending=%u", e->wait_pending);
		if (e->connector.pid != e->ebusy_by.pid)
			tcd_line_thread(&line, "connect_", &e->connector);
		tcd_line_add(&line, " hint=\"%s\"", TCD_HINT_SHUTDOWN);
	}
	spin_unlock_irqrestore(&tcd_lock, flags);
	if (line.len && tcd_alert_allowed(TCD_A_SHUTDOWN, &supp)) {
		if (supp)
			tcd_line_add(&line, " suppressed=%u", supp);
		tcd_alert_emit(line.buf);
	}
	return 0;
}

/* Socket destruction: drop its row so freed sockets never linger. */
int tcd_destruct_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)tcd_arg(regs, 0);
	struct tcd_entry *e;
	unsigned long flags;

	tcd_hit(TCD_P_DESTRUCT);
	if (!tcd_table_maybe_has(sk))
		return 0;
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(sk);
	if (e)
		tcd_remove_entry(e);
	spin_unlock_irqrestore(&tcd_lock, flags);
	return 0;
}
