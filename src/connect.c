// SPDX-License-Identifier: GPL-2.0
/*
 * The hub: the return of __inet_stream_connect(), where every connect()
 * ends. It owns that probe, the fast path, the errno accounting and the one
 * table lookup, and hands the call to each diagnosis: poison.c (a wedged or
 * poisoned socket), saddr.c (the end of a source-address or route stall),
 * eaddr.c (EADDRNOTAVAIL) and failed.c (why the connect failed).
 *
 * The success path (0, EINPROGRESS, EALREADY, EISCONN) takes no lock and
 * allocates nothing: a lock-free hash pre-check, and for a non-blocking
 * start one lock-free store naming the caller (failed.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/net.h>
#include <linux/ktime.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include "tcd.h"
#include "tcd_compat.h"

bool tcd_is_tcp(const struct sock *sk)
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

static int tcd_connect_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_connect_call *c = (void *)ri->data;
	struct socket *sock = (struct socket *)tcd_arg(regs, 0);
	const struct sockaddr *uaddr = (const struct sockaddr *)tcd_arg(regs, 1);
	int addr_len = (int)tcd_arg(regs, 2);

	tcd_hit(TCD_P_CONNECT);
	c->sk = sock->sk;
	if (!tcd_is_tcp(c->sk))
		return 1;
	c->uaddr = uaddr;
	c->addr_len = addr_len;
	c->start_ns = ktime_get_ns();
	c->sock_state = READ_ONCE(sock->state);
	c->bound_port = inet_sk(c->sk)->inet_num;
	/* Blocking is the call's flag, not the file's (io_uring passes its own). */
	c->nonblock = (int)tcd_arg(regs, 3) & O_NONBLOCK;
	c->slot = -1;
	c->unspec = uaddr && addr_len >= (int)sizeof(uaddr->sa_family) &&
		    uaddr->sa_family == AF_UNSPEC;
	/* A blocking connect() may sleep in inet_wait_for_connect(): name it. */
	if (!c->nonblock && !c->unspec &&
	    (c->sock_state == SS_UNCONNECTED || c->sock_state == SS_CONNECTING))
		c->slot = tcd_waiter_add(c->sk, TCD_W_CONNECT);
	return 0;
}

/*
 * A failing blocking connect() disconnected its socket: the 4-tuple of its
 * handshake is the one tcp_done() kept with the failure (the disconnect
 * cleared the socket's), else what is left on the socket.
 */
static void tcd_connect_epipe_note(const struct tcd_connect_call *c, bool reported)
{
	struct tcd_endpoint src = { }, dst = { };

	if (TCD_GUARD_POISON_POSSIBLE)
		return;
	if (!reported || !tcd_failed_peek_tuple(c->sk, &src, &dst))
		tcd_endpoints_from_sk(c->sk, &src, &dst);
	tcd_disconnect_epipe_note(c->sk, &src, &dst);
}

static int tcd_connect_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_connect_call *c = (void *)ri->data;
	int ret = (int)regs_return_value(regs);
	int state = READ_ONCE(c->sk->sk_socket->state);
	enum tcd_connect_event ev = TCD_CE_NONE;
	bool wedged_einval, reported, stall = false;
	struct tcd_entry snap;
	struct tcd_thread me;
	struct tcd_entry *e;
	unsigned long flags;
	u64 now;

	/* Set when failed.c already reported this handshake's failure. */
	reported = tcd_waiter_del(c->slot);
	/*
	 * Fast path: ordinary success or a non-blocking start. -EISCONN is
	 * the usual "did my non-blocking connect finish?" answer: success.
	 * -ERESTARTSYS: a signal; the kernel restarts the call, the caller
	 * sees nothing.
	 */
	if (ret == 0 || ret == -EINPROGRESS || ret == -EALREADY || ret == -EISCONN ||
	    ret == -ERESTARTSYS) {
		if (ret == -EINPROGRESS)
			tcd_failed_note_caller(c);
		if (!tcd_table_maybe_has(c->sk))
			return 0;
	} else {
		tcd_count_connect_err(ret);
	}
	/* EINVAL from the default: branch of a socket left in SS_DISCONNECTING. */
	wedged_einval = ret == -EINVAL && c->sock_state == SS_DISCONNECTING &&
			state == SS_DISCONNECTING;
	/*
	 * This call's own tcp_disconnect() (the failure path, or AF_UNSPEC's)
	 * got EBUSY: only that leaves SS_DISCONNECTING behind a connect() that
	 * did not start there. One that went through left SS_UNCONNECTED:
	 * other threads blocked on the socket fail with EPIPE (poison.c).
	 */
	if (ret < 0 && state == SS_DISCONNECTING && c->sock_state != SS_DISCONNECTING &&
	    (!c->unspec || ret == -EBUSY))
		tcd_disconnect_ebusy(c->sk);
	else if (ret < 0 && state == SS_UNCONNECTED && c->slot >= 0 &&
		 READ_ONCE(c->sk->sk_state) == TCP_CLOSE)
		tcd_connect_epipe_note(c, reported);
	if (wedged_einval || state == SS_DISCONNECTING || tcd_table_maybe_has(c->sk)) {
		tcd_thread_current(&me);
		now = ktime_get_ns();
		raw_spin_lock_irqsave(&tcd_lock, flags);
		e = wedged_einval ? tcd_get_or_create(c->sk) : tcd_lookup(c->sk);
		if (e) {
			tcd_touch(e);
			tcd_failed_on_row(e, &me);
			ev = tcd_poison_on_connect(e, c, ret, state, wedged_einval, &me, now);
			if (ev == TCD_CE_NONE)
				stall = tcd_stall_on_connect(e, c, ret, &me, now);
			if (ev != TCD_CE_NONE || stall)
				snap = *e;
		}
		raw_spin_unlock_irqrestore(&tcd_lock, flags);
		if (ev != TCD_CE_NONE)
			tcd_poison_alert(ev, c->sk, &snap, &me, ret);
		else if (stall)
			tcd_stall_alert(c->sk, &snap, ret, now);
	}
	if (ret == -EADDRNOTAVAIL)
		tcd_eaddr_on_connect(c);
	if (reported)
		tcd_failed_on_return(c, ret);
	else if (ret && ret != -EINPROGRESS && ret != -EALREADY && ret != -EISCONN &&
		 ret != -ERESTARTSYS)
		tcd_failed_on_connect(c, ret, state);
	return 0;
}

static const struct tcd_probe_desc tcd_connect_descs[] = {
	{
		.id = TCD_P_CONNECT,
		.symbol = "__inet_stream_connect",
		.entry = tcd_connect_entry,
		.ret = tcd_connect_ret,
		.data_size = sizeof(struct tcd_connect_call),
		.pool = TCD_POOL_BLOCKING,
	},
};

const struct tcd_probe_set tcd_connect_probes = {
	tcd_connect_descs, ARRAY_SIZE(tcd_connect_descs)
};
