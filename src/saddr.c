// SPDX-License-Identifier: GPL-2.0
/*
 * Source-address stall: the socket's own source address vanished, so
 * inet_sk_rebuild_header() (inet6_sk_rebuild_header() for IPv6) fails on
 * every retransmit and a blocking connect() sleeps through the whole SYN
 * retry period. We alert on the first failure, long before connect()
 * returns; poison.c's connect return handler reports the end of the stall.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_HINT_SADDR "the socket's source address is gone; connect() will block until the SYN retries run out: use a non-blocking connect with a deadline, lower TCP_SYNCNT or set TCP_USER_TIMEOUT, or net.ipv4.ip_dynaddr=1 to re-select the source"
#define TCD_HINT_SADDR_EST "the connection's source address is gone; data retransmits fail until tcp_retries2 or TCP_USER_TIMEOUT kills it"

/* RTO doubling from TCP_TIMEOUT_INIT, capped at TCP_RTO_MAX, in seconds. */
static unsigned int tcd_syn_backoff_s(unsigned int from, unsigned int to)
{
	unsigned int i, s = 0;

	for (i = from; i < to; i++)
		s += i < 7 ? min(1u << i, TCP_RTO_MAX / HZ) : TCP_RTO_MAX / HZ;
	return s;
}

static int tcd_rebuild_save(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock **skp = (void *)ri->data;

	*skp = (struct sock *)tcd_arg(regs, 0);
	return (*skp)->sk_protocol != IPPROTO_TCP;
}

int tcd_rebuild_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_REBUILD);
	return tcd_rebuild_save(ri, regs);
}

int tcd_rebuild6_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_REBUILD6);
	return tcd_rebuild_save(ri, regs);
}

int tcd_rebuild_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;
	int ret = (int)regs_return_value(regs);
	const struct inet_connection_sock *icsk = inet_csk(sk);
	struct tcd_thread owner = { .comm = "?" };
	unsigned int supp = 0, total = 0, elapsed;
	int state = READ_ONCE(sk->sk_state);
	struct tcd_line line;
	struct tcd_entry *e;
	unsigned long flags;
	int retries, dynaddr;

	if (!ret)
		return 0;
	/* The timer runs in softirq: the owner is the thread sleeping in connect(). */
	tcd_collect_sleepers(sk, &owner, 1);
	retries = icsk->icsk_syn_retries ? : tcd_tcp_syn_retries(sock_net(sk));
	dynaddr = tcd_ip_dynaddr(sock_net(sk));

	line.len = 0;
	spin_lock_irqsave(&tcd_lock, flags);
	e = tcd_get_or_create(sk);
	if ((e->events & TCD_EV_SADDR_LOST) && !(e->events & TCD_EV_STALL_ENDED))
		goto unlock;	/* one alert per socket and stall */
	e->events &= ~(TCD_EV_SADDR_LOST | TCD_EV_STALL_ENDED);
	e->events |= TCD_EV_SADDR_LOST;
	e->lost_ns = ktime_get_ns();
	e->route_err = ret;
	e->lost_state = state;
	e->state = state;
	e->retransmits = icsk->icsk_retransmits;
	e->syn_retries = retries;
	e->connector = owner;
	tcd_endpoints_from_sk(sk, &e->src, &e->dst);
	tcd_count(TCD_C_SADDR_LOST);

	tcd_line_start(&line, "saddr-lost", &owner, e->family, &e->src, &e->dst, ret);
	tcd_line_add(&line, " state=%s uid=%u retransmits=%u", tcd_state_name(state),
		     from_kuid_munged(&init_user_ns, sk->sk_uid), e->retransmits);
	if (state == TCP_SYN_SENT) {
		/* Give-up time counted from the first SYN; now is the r+1-th timeout. */
		total = tcd_syn_backoff_s(0, retries + 1);
		if (icsk->icsk_user_timeout)
			total = min(total, icsk->icsk_user_timeout / 1000);
		elapsed = tcd_syn_backoff_s(0, e->retransmits + 1);
		tcd_line_add(&line, " syn_retries=%d user_timeout_ms=%u giveup_in_s=%u",
			     retries, icsk->icsk_user_timeout,
			     total > elapsed ? total - elapsed : 0);
	}
	if (dynaddr >= 0)
		tcd_line_add(&line, " ip_dynaddr=%d", dynaddr);
	else
		tcd_line_add(&line, " ip_dynaddr=unknown");
	tcd_line_add(&line, " hint=\"%s\"",
		     state == TCP_SYN_SENT ? TCD_HINT_SADDR : TCD_HINT_SADDR_EST);
unlock:
	spin_unlock_irqrestore(&tcd_lock, flags);
	if (line.len && tcd_alert_allowed(TCD_A_SADDR, &supp)) {
		if (supp)
			tcd_line_add(&line, " suppressed=%u", supp);
		tcd_alert_emit(line.buf);
	}
	return 0;
}
