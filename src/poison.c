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
 * Probes: inet_shutdown (kretprobe) and the tcp_destroy_sock tracepoint
 * (row cleanup); connect.c hands us each connect() return; the blocked
 * threads come from waiters.c, whose wait probes call tcd_waiter_epipe().
 * tcp_disconnect() itself is not probed: it runs on every SO_LINGER 0
 * close, and the disconnects that matter happen inside calls we already
 * watch (a failing connect(), connect(AF_UNSPEC), shutdown()), whose
 * returns see what it did: SS_DISCONNECTING after EBUSY, the 4-tuple
 * cleared after a disconnect that went through.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/net.h>
#include <linux/ktime.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_HINT_POISON "the socket is wedged (SS_DISCONNECTING): close and recreate it; "
/* What the other blocked thread must not do, by the wait it was in. */
#define TCD_HINT_POISON_SEND "do not send() while a blocking connect() is pending (send with MSG_DONTWAIT or wait for connect to finish)"
#define TCD_HINT_POISON_RECV "do not recv() while a blocking connect() is pending (poll() first, or wait for connect to finish)"
#define TCD_HINT_POISON_CONNECT "do not connect() the same socket from two threads"
#define TCD_HINT_POISON_OTHER "do not block on the socket from another thread while a blocking connect() is pending"
#define TCD_HINT_EINVAL "connect() on a socket poisoned by an earlier failed connect: close and recreate the socket"
#define TCD_HINT_EINVAL_SHUT "shutdown() on a connecting socket leaves it unable to connect again (SS_DISCONNECTING): close it and create a new socket instead of shutdown() then connect()"
#define TCD_HINT_EINVAL_UNSPEC "connect(AF_UNSPEC) got EBUSY while another thread was blocked on the socket, which left it SS_DISCONNECTING: close and recreate the socket"
#define TCD_HINT_EINVAL_UNKNOWN "connect() on a socket left in SS_DISCONNECTING before tcpconndiag saw it (a shutdown() while connecting does that): close and recreate the socket"
#define TCD_HINT_SHUTDOWN "shutdown() cannot abort this blocking connect(): use a non-blocking connect with poll() and a deadline, or TCP_SYNCNT/TCP_USER_TIMEOUT"
#define TCD_HINT_EPIPE "send() raced a failing connect(): wait for connect() to succeed before sending"
#define TCD_HINT_EPIPE_RECV "recv() raced a failing connect(): wait for connect() to succeed before reading"

void tcd_poison_alert(enum tcd_connect_event ev, struct sock *sk, const struct tcd_entry *e,
		      const struct tcd_thread *me, int ret)
{
	struct tcd_line line;
	const char *hint;

	switch (ev) {
	case TCD_CE_POISONED:
		tcd_count(TCD_C_SOCKET_POISONED);
		tcd_line_start(&line, "socket-poisoned", me, e->family, &e->src, &e->dst, ret);
		tcd_line_owner(&line, sk);
		tcd_line_add(&line, " wait_pending=%u", e->wait_pending);
		if (e->nr_blocked)
			tcd_line_thread(&line, "waiter_", &e->blocked[0]);
		if (e->all_blocked > 1)
			tcd_line_add(&line, " waiters=%u", e->all_blocked);
		tcd_alert(&line, TCD_A_POISON, TCD_HINT_POISON,
			  !e->nr_blocked ? TCD_HINT_POISON_OTHER :
			  e->blocked[0].kind == TCD_W_SEND ? TCD_HINT_POISON_SEND :
			  e->blocked[0].kind == TCD_W_RECV ? TCD_HINT_POISON_RECV :
			  e->blocked[0].kind == TCD_W_CONNECT ? TCD_HINT_POISON_CONNECT :
			  TCD_HINT_POISON_OTHER);
		break;
	case TCD_CE_ON_POISONED:
		tcd_line_start(&line, "connect-on-poisoned", me, e->family, &e->src, &e->dst, ret);
		tcd_line_owner(&line, sk);
		if (e->events & TCD_EV_POISONED) {
			tcd_line_add(&line, " cause=socket-poisoned");
			tcd_line_thread(&line, "poisoned_by_", &e->connector);
			hint = TCD_HINT_EINVAL;
		} else if (e->events & TCD_EV_SHUTDOWN_EBUSY) {
			tcd_line_add(&line, " cause=shutdown-ebusy");
			tcd_line_thread(&line, "shutdown_", &e->ebusy_by);
			hint = TCD_HINT_EINVAL_SHUT;
		} else if (e->events & TCD_EV_SHUTDOWN_WEDGED) {
			tcd_line_add(&line, " cause=shutdown");
			tcd_line_thread(&line, "shutdown_", &e->shut_by);
			hint = TCD_HINT_EINVAL_SHUT;
		} else if (e->events & TCD_EV_UNSPEC_EBUSY) {
			tcd_line_add(&line, " cause=unspec-ebusy");
			tcd_line_thread(&line, "unspec_", &e->ebusy_by);
			hint = TCD_HINT_EINVAL_UNSPEC;
		} else {
			/* Wedged before the module was loaded, or by a missed probe. */
			tcd_line_add(&line, " cause=unknown(%s)", TCD_GUARD_POISON_POSSIBLE ?
				     "poisoned-before-tracking" : "wedged-before-tracking");
			hint = TCD_GUARD_POISON_POSSIBLE ? TCD_HINT_EINVAL : TCD_HINT_EINVAL_UNKNOWN;
		}
		tcd_alert(&line, TCD_A_POISON, hint, NULL);
		break;
	default:
		break;
	}
}

/*
 * The hub's connect() return, under tcd_lock with @e the socket's row:
 * what this return means for a poisoned or wedged socket.
 */
enum tcd_connect_event tcd_poison_on_connect(struct tcd_entry *e,
					     const struct tcd_connect_call *c, int ret,
					     int state, bool wedged_einval,
					     const struct tcd_thread *me, u64 now)
{
	if (c->unspec && ret == -EBUSY && state == SS_DISCONNECTING) {
		/* connect(AF_UNSPEC)'s own disconnect got EBUSY. */
		e->events |= TCD_EV_UNSPEC_EBUSY;
	} else if (state == SS_DISCONNECTING && ret != -EINVAL && e->ebusy_by.pid == me->pid &&
		   e->ebusy_ns >= c->start_ns && !(e->events & TCD_EV_POISONED)) {
		/* This connect's own tcp_disconnect() got EBUSY: poisoned now. */
		e->events |= TCD_EV_POISONED;
		e->connector = *me;
		e->connect_err = ret;
		return TCD_CE_POISONED;
	} else if (wedged_einval) {
		e->einval_count++;
		tcd_count(TCD_C_CONNECT_ON_POISONED);
		if (!(e->events & TCD_EV_CONNECT_ON_POISONED)) {
			e->events |= TCD_EV_CONNECT_ON_POISONED;
			return TCD_CE_ON_POISONED;
		}
	} else if ((e->events & TCD_EV_SHUTDOWN_EBUSY) && e->connector.pid == me->pid &&
		   !e->connect_err) {
		/* The connect that shutdown() failed to abort has now ended. */
		e->connect_err = ret ? ret : 1;
		e->stall_ns = now - c->start_ns;
	}
	return TCD_CE_NONE;
}

/*
 * tcp_disconnect() returned -EBUSY (sk_wait_pending kernels): other threads
 * sleep on @sk. Called at the return of the call that disconnected (a
 * failing connect(), connect(AF_UNSPEC), shutdown()), which still holds the
 * socket lock: nothing changed since, not even the 4-tuple.
 */
void tcd_disconnect_ebusy(struct sock *sk)
{
	struct tcd_thread me, others[TCD_MAX_WAITERS];
	struct tcd_entry *e;
	unsigned long flags;
	int n;

	tcd_count(TCD_C_DISCONNECT_EBUSY);
	tcd_thread_current(&me);
	/* The other blocked threads; one in connect() first (shutdown()'s victim). */
	n = tcd_waiters_of(sk, me.pid, TCD_W_CONNECT, others, ARRAY_SIZE(others));
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(sk);
	e->events |= TCD_EV_DISCONNECT_EBUSY;
	e->state = READ_ONCE(sk->sk_state);
	e->ebusy_by = me;
	e->ebusy_ns = ktime_get_ns();
	e->wait_pending = max(tcd_sk_wait_pending(sk), 0);
	e->all_blocked = min(n, 255);
	e->nr_blocked = min_t(int, n, ARRAY_SIZE(others));
	memcpy(e->blocked, others, e->nr_blocked * sizeof(others[0]));
	/*
	 * From shutdown(): the connect() it could not abort is the other
	 * thread blocked in connect(). From connect(): the current thread
	 * (tcd_connect_ret() sets it).
	 */
	e->connector = e->nr_blocked && others[0].kind == TCD_W_CONNECT ? others[0] : me;
	e->connect_err = 0;
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
}

/*
 * sk_disconnects kernels: the failing blocking connect() returning now
 * disconnected @sk under other blocked threads, which will fail with
 * EPIPE. Remember it for their return (tcd_waiter_epipe()), with the
 * 4-tuple the handshake had (@src, @dst: the disconnect cleared the
 * socket's). The socket lock is still held: they cannot have returned.
 */
void tcd_disconnect_epipe_note(struct sock *sk, const struct tcd_endpoint *src,
			       const struct tcd_endpoint *dst)
{
	struct tcd_thread me;
	struct tcd_entry *e;
	unsigned long flags;

	if (TCD_GUARD_POISON_POSSIBLE || !tcd_waiters_of(sk, current->pid, TCD_W_SEND, NULL, 0))
		return;
	tcd_thread_current(&me);
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(sk);
	e->disc_by = me;
	e->disc_ns = ktime_get_ns();
	e->src = *src;
	e->dst = *dst;
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
}

/*
 * A thread blocked on the socket (waiters.c) came back with EPIPE: on
 * sk_disconnects kernels, a disconnect under it did that. Report it when a
 * failing connect() disconnected while it waited.
 */
void tcd_waiter_epipe(struct sock *sk, u64 start_ns, enum tcd_wait_kind kind)
{
	struct tcd_entry *e, snap;
	struct tcd_line line;
	struct tcd_thread me;
	unsigned long flags;
	bool epipe = false;

	if (TCD_GUARD_POISON_POSSIBLE || !tcd_table_maybe_has(sk))
		return;
	tcd_thread_current(&me);
	me.kind = kind;
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(sk);
	if (e && e->disc_ns >= start_ns && e->disc_by.pid && e->disc_by.pid != me.pid) {
		e->events |= TCD_EV_SENDER_EPIPE;
		tcd_touch(e);
		snap = *e;
		epipe = true;
	}
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	if (!epipe)
		return;
	tcd_count(TCD_C_SENDER_EPIPE);
	/*
	 * The endpoints are the row's, recorded before the disconnect cleared
	 * the source address and the destination port.
	 */
	tcd_line_start(&line, "sender-epipe", &me, snap.family, &snap.src, &snap.dst, -EPIPE);
	tcd_line_owner(&line, sk);
	tcd_line_thread(&line, "connect_", &snap.disc_by);
	tcd_line_add(&line, " severity=info");
	tcd_alert(&line, TCD_A_EPIPE, kind == TCD_W_RECV ? TCD_HINT_EPIPE_RECV : TCD_HINT_EPIPE,
		  NULL);
}

struct tcd_shut_ri {
	struct socket *sock;
	struct sock *sk;
	u64 start_ns;
	int sock_state;
};

static int tcd_shutdown_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_shut_ri *d = (void *)ri->data;

	tcd_hit(TCD_P_SHUTDOWN);
	d->sock = (struct socket *)tcd_arg(regs, 0);
	d->sk = d->sock->sk;
	d->sock_state = READ_ONCE(d->sock->state);
	/*
	 * shutdown() in SYN_SENT reaches tcp_disconnect() (EBUSY on
	 * sk_wait_pending kernels); on a socket still SS_CONNECTING it may
	 * leave SS_DISCONNECTING behind, on every kernel.
	 */
	if (!tcd_is_tcp(d->sk) || (READ_ONCE(d->sk->sk_state) != TCP_SYN_SENT &&
				   d->sock_state != SS_CONNECTING))
		return 1;
	d->start_ns = ktime_get_ns();
	return 0;
}

/*
 * inet_shutdown() on a socket the application was still connecting sets
 * SS_DISCONNECTING (TCP state CLOSE, SYN_SENT or SYN_RECV) and nothing
 * clears it: every later connect() gets EINVAL. Remember who did it.
 */
static void tcd_shutdown_wedged(struct tcd_shut_ri *d)
{
	struct tcd_thread me;
	struct tcd_entry *e;
	unsigned long flags;

	tcd_thread_current(&me);
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(d->sk);
	e->events |= TCD_EV_SHUTDOWN_WEDGED;
	e->shut_by = me;
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
}

static int tcd_shutdown_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_shut_ri *d = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	struct tcd_entry *e, snap;
	struct tcd_line line;
	unsigned long flags;
	bool alert = false;

	if (ret != -EBUSY) {
		if (d->sock_state == SS_CONNECTING &&
		    READ_ONCE(d->sock->state) == SS_DISCONNECTING)
			tcd_shutdown_wedged(d);
		return 0;
	}
	/* inet_shutdown() in SYN_SENT: EBUSY is its tcp_disconnect()'s. */
	tcd_disconnect_ebusy(d->sk);
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(d->sk);
	if (e && e->ebusy_ns >= d->start_ns) {
		e->events |= TCD_EV_SHUTDOWN_EBUSY;
		tcd_touch(e);
		snap = *e;
		alert = true;
	}
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	if (!alert)
		return 0;
	tcd_count(TCD_C_SHUTDOWN_EBUSY);
	tcd_line_start(&line, "shutdown-ebusy", &snap.ebusy_by, snap.family, &snap.src,
		       &snap.dst, ret);
	tcd_line_owner(&line, d->sk);
	tcd_line_add(&line, " wait_pending=%u", snap.wait_pending);
	if (snap.connector.pid != snap.ebusy_by.pid)
		tcd_line_thread(&line, "connect_", &snap.connector);
	tcd_alert(&line, TCD_A_SHUTDOWN, TCD_HINT_SHUTDOWN, NULL);
	return 0;
}

/*
 * Socket destruction: drop its row so freed sockets never linger. The
 * tcp_destroy_sock tracepoint (tcp_v4_destroy_sock(), IPv6 too) is where
 * every full TCP socket goes once, before it is freed; a tracepoint costs
 * a fraction of a kprobe, and every connection passes here twice.
 */
static void tcd_destroy_tp(void *data, struct sock *sk)
{
	struct tcd_entry *e;
	unsigned long flags;

	struct tcd_entry snap;
	bool soft = false;

	tcd_hit(TCD_P_DESTRUCT);
	if (!tcd_table_maybe_has(sk) || READ_ONCE(tcd_test_drop_destroy))
		return;
	raw_spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_lookup(sk);
	if (e) {
		soft = e->events & TCD_EV_SOFT_ERR;
		if (soft)
			snap = *e;
		tcd_remove_entry(e);
	}
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	/* A handshake the application gave up on after an ICMP error (failed.c). */
	if (soft)
		tcd_failed_soft_closed(sk, &snap);
}

/*
 * The destroy tracepoint is the row cleanup of every diagnosis; it lives
 * here with the first diagnosis that made rows.
 */
static const struct tcd_probe_desc tcd_poison_descs[] = {
	{
		.id = TCD_P_SHUTDOWN,
		.symbol = "inet_shutdown",
		.entry = tcd_shutdown_entry,
		.ret = tcd_shutdown_ret,
		.data_size = sizeof(struct tcd_shut_ri),
	},
	{
		.id = TCD_P_DESTRUCT,
		.symbol = "tcp_destroy_sock",
		.tp = tcd_destroy_tp,
	},
};

const struct tcd_probe_set tcd_poison_probes = {
	tcd_poison_descs, ARRAY_SIZE(tcd_poison_descs)
};
