// SPDX-License-Identifier: GPL-2.0
/*
 * Formatting helpers and the rate-limited alert channel.
 *
 * Alerts are single printk lines "tcpconndiag: <event> key=value ...", so a
 * log reader can grep them; each kind has its own budget so a storm of one
 * failure cannot hide another.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/moduleparam.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>
#include <net/ipv6.h>
#include "tcd.h"

static unsigned int alert_burst = 10;
module_param(alert_burst, uint, 0644);
MODULE_PARM_DESC(alert_burst, "Alerts of one kind printed per alert_interval (default 10)");

static unsigned int alert_interval = 5;
module_param(alert_interval, uint, 0644);
MODULE_PARM_DESC(alert_interval, "Rate-limit window for alerts, in seconds (default 5)");

/* comm is sanitised so alerts stay key=value parsable. */
void tcd_thread_sanitize(struct tcd_thread *t)
{
	int i;

	t->comm[TASK_COMM_LEN - 1] = '\0';
	for (i = 0; t->comm[i]; i++)
		if (t->comm[i] <= ' ' || t->comm[i] > '~' || t->comm[i] == '"' ||
		    t->comm[i] == '=')
			t->comm[i] = '?';
}

void tcd_thread_current(struct tcd_thread *t)
{
	t->pid = current->pid;
	t->tgid = current->tgid;
	t->kind = TCD_W_NONE;
	memcpy(t->comm, current->comm, TASK_COMM_LEN);
	tcd_thread_sanitize(t);
}

void tcd_endpoints_from_sk(struct sock *sk, struct tcd_endpoint *src,
			   struct tcd_endpoint *dst)
{
	const struct inet_sock *inet = inet_sk(sk);

#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		src->addr.v6 = sk->sk_v6_rcv_saddr;
		dst->addr.v6 = sk->sk_v6_daddr;
	} else
#endif
	{
		src->addr.v4 = inet->inet_saddr;
		dst->addr.v4 = inet->inet_daddr;
	}
	src->port = ntohs(inet->inet_sport);
	dst->port = ntohs(inet->inet_dport);
}

/* IPv4 as a.b.c.d:port, IPv6 as [addr]:port. */
int tcd_fmt_ep(char *buf, size_t len, u16 family, const struct tcd_endpoint *ep)
{
	if (family == AF_INET6)
		return scnprintf(buf, len, "[%pI6c]:%u", &ep->addr.v6, ep->port);
	return scnprintf(buf, len, "%pI4:%u", &ep->addr.v4, ep->port);
}

const char *tcd_errname(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	case ENOBUFS: return "ENOBUFS";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETDOWN: return "ENETDOWN";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTDOWN: return "EHOSTDOWN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EALREADY: return "EALREADY";
	case EINPROGRESS: return "EINPROGRESS";
	case ERESTARTSYS: return "ERESTARTSYS";
	default: return "E?";
	}
}

const char *tcd_state_name(int state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED",
		[TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",
		[TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",
		[TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",
		[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",
		[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
		[TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	if (state >= 0 && state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "UNKNOWN";
}

/* Per-kind fixed-window limiter: alert_burst lines per alert_interval. */
struct tcd_limit {
	unsigned long window_start;
	unsigned int printed;
	unsigned int suppressed;
};

static struct tcd_limit tcd_limits[TCD_A_NR];
static DEFINE_RAW_SPINLOCK(tcd_limit_lock);

/*
 * Returns whether an alert of @kind may be printed now; when it may, and
 * earlier ones were dropped, *suppressed says how many so the line can
 * carry "suppressed=N" and nothing is silently lost.
 */
bool tcd_alert_allowed(enum tcd_alert_kind kind, unsigned int *suppressed)
{
	struct tcd_limit *l = &tcd_limits[kind];
	unsigned long flags, now = jiffies;
	bool ok;

	raw_spin_lock_irqsave(&tcd_limit_lock, flags);
	if (!l->window_start ||
	    time_after(now, l->window_start + READ_ONCE(alert_interval) * HZ)) {
		l->window_start = now;
		l->printed = 0;
	}
	ok = l->printed < READ_ONCE(alert_burst);
	if (ok) {
		l->printed++;
		*suppressed = l->suppressed;
		l->suppressed = 0;
	} else {
		l->suppressed++;
	}
	raw_spin_unlock_irqrestore(&tcd_limit_lock, flags);
	tcd_count(ok ? TCD_C_ALERTS : TCD_C_ALERTS_SUPPRESSED);
	return ok;
}

/*
 * Finish @l with suppressed=N (when earlier lines were dropped) and the
 * hint (@hint then @tail), and print it. The hint goes last so a reader
 * always finds the counts; a line cut at the buffer's end is counted.
 */
void tcd_alert_print(struct tcd_line *l, unsigned int suppressed, const char *hint,
		     const char *tail)
{
	if (suppressed)
		tcd_line_add(l, " suppressed=%u", suppressed);
	tcd_line_add(l, " hint=\"%s%s\"", hint, tail ? tail : "");
	if (l->truncated)
		tcd_count(TCD_C_ALERTS_TRUNCATED);
	pr_warn("%s\n", l->buf);
}

/* tcd_alert_print() when @kind's budget allows; returns whether it printed. */
bool tcd_alert(struct tcd_line *l, enum tcd_alert_kind kind, const char *hint, const char *tail)
{
	unsigned int supp = 0;

	if (!tcd_alert_allowed(kind, &supp))
		return false;
	tcd_alert_print(l, supp, hint, tail);
	return true;
}

void tcd_reset_alert_limits(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&tcd_limit_lock, flags);
	memset(tcd_limits, 0, sizeof(tcd_limits));
	raw_spin_unlock_irqrestore(&tcd_limit_lock, flags);
}

void tcd_line_add(struct tcd_line *l, const char *fmt, ...)
{
	size_t room = sizeof(l->buf) - l->len;
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(l->buf + l->len, room, fmt, args);
	va_end(args);
	if (n >= room) {
		l->truncated = true;
		n = room - 1;
	}
	l->len += n;
}

void tcd_line_thread(struct tcd_line *l, const char *prefix, const struct tcd_thread *t)
{
	tcd_line_add(l, " %spid=%d %stgid=%d %scomm=%s", prefix, t->pid, prefix, t->tgid,
		     prefix, t->comm[0] ? t->comm : "?");
	if (t->kind != TCD_W_NONE && t->kind < TCD_W_NR)
		tcd_line_add(l, " %skind=%s", *prefix ? prefix : "waiter_",
			     tcd_wait_names[t->kind]);
}

/* The keys every alert carries: event pid tgid comm src dst err. */
void tcd_line_start(struct tcd_line *l, const char *event, const struct tcd_thread *t,
		    u16 family, const struct tcd_endpoint *src,
		    const struct tcd_endpoint *dst, int err)
{
	char s[64], d[64];

	tcd_fmt_ep(s, sizeof(s), family, src);
	tcd_fmt_ep(d, sizeof(d), family, dst);
	l->len = 0;
	l->truncated = false;
	l->buf[0] = '\0';
	tcd_line_add(l, "%s", event);
	tcd_line_thread(l, "", t);
	tcd_line_add(l, " src=%s dst=%s err=%s", s, d, tcd_errname(err));
}
