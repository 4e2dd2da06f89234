/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpconndiag: the pure functions (src/pure.c and the inlines below).
 *
 * They touch no kernel state, so the host test (tests/host/pure.sh)
 * compiles src/pure.c and this header against a thin shim
 * (tests/host/shim/) and checks them in milliseconds, without a guest.
 * Keep this header to the few kernel headers the shim provides.
 */
#ifndef TCD_PURE_H
#define TCD_PURE_H

#include <linux/types.h>
#include <linux/in6.h>
#include <linux/sched.h>

/* Fits the longest alert (IPv6 saddr-lost with its hint) with room to spare. */
#define TCD_ALERT_LEN 1024

union tcd_addr {
	__be32 v4;
	struct in6_addr v6;
};

struct tcd_endpoint {
	union tcd_addr addr;
	u16 port;		/* host order */
};

struct tcd_thread {
	pid_t pid;		/* thread id, as gettid() returns it */
	pid_t tgid;
	u8 kind;		/* enum tcd_wait_kind, for a blocked thread */
	u8 reported;		/* waiters.c: failed.c reported its connect's failure */
	char comm[TASK_COMM_LEN];
};

struct tcd_line {
	char buf[TCD_ALERT_LEN];
	int len;
	bool truncated;
};

/* Per-kind fixed-window limiter: a burst of lines per interval. */
struct tcd_limit {
	unsigned long window_start;	/* jiffies; 0: no window yet */
	unsigned int printed;
	unsigned int suppressed;
};

__printf(2, 3) void tcd_line_add(struct tcd_line *l, const char *fmt, ...);
int tcd_fmt_ep(char *buf, size_t len, u16 family, const struct tcd_endpoint *ep);
void tcd_thread_sanitize(struct tcd_thread *t);
bool tcd_limit_take(struct tcd_limit *l, unsigned long now, unsigned long interval,
		    unsigned int burst, unsigned int *suppressed);
unsigned int tcd_syn_giveup_calc(unsigned int retries, unsigned int linear,
				 unsigned int rto_init, unsigned int rto_max, unsigned int hz);

/*
 * Destination-list eviction (eaddr.c, failed.c): should an entry with
 * @count failures, the last at @last_ns, be replaced before the current
 * victim (@vcount, @vlast_ns)? Fewest failures first, the oldest on ties;
 * an equal entry does not displace the victim, so the first one found stays.
 */
static inline bool tcd_evict_before(u64 count, u64 last_ns, u64 vcount, u64 vlast_ns)
{
	return count < vcount || (count == vcount && last_ns < vlast_ns);
}

#endif /* TCD_PURE_H */
