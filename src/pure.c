// SPDX-License-Identifier: GPL-2.0
/*
 * Pure functions: formatting, the limiter's window, the give-up arithmetic.
 * No kernel state, no locks: the host test (tests/host/pure.sh) compiles
 * this file unchanged against tests/host/shim/. Include only what the shim
 * provides.
 */
#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <linux/socket.h>
#include <linux/string.h>
#include "tcd_pure.h"

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

/* IPv4 as a.b.c.d:port, IPv6 as [addr]:port. */
int tcd_fmt_ep(char *buf, size_t len, u16 family, const struct tcd_endpoint *ep)
{
	if (family == AF_INET6)
		return scnprintf(buf, len, "[%pI6c]:%u", &ep->addr.v6, ep->port);
	return scnprintf(buf, len, "%pI4:%u", &ep->addr.v4, ep->port);
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

/*
 * The window logic of tcd_alert_allowed() (report.c), which holds its lock
 * around this: may a line be printed at @now, with @burst lines per
 * @interval jiffies? When it may and earlier ones were dropped,
 * *suppressed says how many.
 */
bool tcd_limit_take(struct tcd_limit *l, unsigned long now, unsigned long interval,
		    unsigned int burst, unsigned int *suppressed)
{
	bool ok;

	if (!l->window_start || time_after(now, l->window_start + interval)) {
		l->window_start = now;
		l->printed = 0;
	}
	ok = l->printed < burst;
	if (ok) {
		l->printed++;
		*suppressed = l->suppressed;
		l->suppressed = 0;
	} else {
		l->suppressed++;
	}
	return ok;
}

/*
 * Seconds from the first SYN until connect() gives up: the (retries +
 * linear + 1)-th RTO expiry. The first linear + 1 RTOs are the initial
 * @rto_init (TCP_TIMEOUT_INIT, 1 s), then they double up to @rto_max (at
 * least one jiffy): 1, 2, 4, 8 (15 s) for 3 retries and no linear
 * timeouts; 1, 1, 1, 1, 1, 2, 4, 8 (19 s) with 6.5+'s default of 4; with
 * the default 6 retries 127 s, and 131 s on 6.5+. Times in jiffies of @hz.
 */
unsigned int tcd_syn_giveup_calc(unsigned int retries, unsigned int linear,
				 unsigned int rto_init, unsigned int rto_max, unsigned int hz)
{
	unsigned int i, rto = rto_init, cap = max(rto_max, 1U);
	unsigned long total = 0;

	for (i = 0; i <= retries + linear; i++) {
		total += min(rto, cap);
		if (i >= linear)
			rto = min(rto << 1, cap);
	}
	return total / hz;
}
