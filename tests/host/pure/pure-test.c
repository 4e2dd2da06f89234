// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of src/pure.c and include/tcd_pure.h, compiled against
 * tests/host/shim/ by tests/host/pure.sh: the give-up ETA, the
 * destination-list eviction order, comm sanitising, endpoint formatting,
 * the alert line's truncation and the alert limiter's window. KTAP lines.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/kernel.h>
#include <linux/socket.h>
#include "tcd_pure.h"

static int tap_n, tap_failed;

__printf(2, 3) static void check(bool ok, const char *fmt, ...)
{
	va_list args;

	printf("%sok %d ", ok ? "" : "not ", ++tap_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	if (!ok)
		tap_failed++;
}

static void check_str(const char *got, const char *want, const char *what)
{
	check(!strcmp(got, want), "%s: \"%s\"", what, want);
	if (strcmp(got, want))
		printf("# got \"%s\"\n", got);
}

static void check_uint(unsigned long long got, unsigned long long want, const char *what)
{
	check(got == want, "%s: %llu", what, want);
	if (got != want)
		printf("# got %llu\n", got);
}

/* ---- give-up ETA ------------------------------------------------------------ */
static void test_giveup(void)
{
	static const unsigned int hzs[] = { 100, 250, 1000 };
	unsigned int i;
	char what[96];

	for (i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++) {
		unsigned int hz = hzs[i], rto_max = 120 * hz;
		static const struct { unsigned int retries, linear, want; } c[] = {
			{ 0, 0, 1 }, { 1, 0, 3 }, { 3, 0, 15 }, { 3, 4, 19 },
			{ 6, 0, 127 }, { 6, 4, 131 },
			/* 1+2+...+64, then 9 RTOs at the 120 s ceiling */
			{ 15, 0, 127 + 9 * 120 },
		};
		unsigned int k;

		for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
			snprintf(what, sizeof(what), "giveup HZ=%u retries=%u linear=%u", hz,
				 c[k].retries, c[k].linear);
			check_uint(tcd_syn_giveup_calc(c[k].retries, c[k].linear, hz, rto_max, hz),
				   c[k].want, what);
		}
	}
	/* A lower ceiling (TCP_RTO_MAX_MS, 6.15+): 1, 2, 4, 5, 5, 5, 5. */
	check_uint(tcd_syn_giveup_calc(6, 0, 250, 5 * 250, 250), 27,
		   "giveup with a 5 s RTO ceiling");
	/* A ceiling under the initial RTO caps that too. */
	check_uint(tcd_syn_giveup_calc(3, 0, 250, 125, 250), 2,
		   "giveup with a 0.5 s ceiling under the 1 s initial RTO");
	/* A zero ceiling counts as one jiffy, not as "no RTO". */
	check_uint(tcd_syn_giveup_calc(999, 0, 250, 0, 250), 4,
		   "giveup with a zero ceiling: 1000 RTOs of one jiffy");
}

/* ---- eviction order ------------------------------------------------------------ */
struct slot {
	u64 count, last_ns;
};

/* The victim choice of failed.c's tcd_fdest_hit() over @n slots. */
static int fdest_victim(const struct slot *s, int n)
{
	int i, v = -1;

	for (i = 0; i < n; i++)
		if (v < 0 || tcd_evict_before(s[i].count, s[i].last_ns, s[v].count, s[v].last_ns))
			v = i;
	return v;
}

/* The victim choice of eaddr.c's tcd_dest_hit(): the last empty slot wins. */
static int dest_victim(const struct slot *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++)
		if (!s[i].count ||
		    (s[v].count && tcd_evict_before(s[i].count, s[i].last_ns, s[v].count,
						    s[v].last_ns)))
			v = i;
	return v;
}

static void test_evict(void)
{
	struct slot a[] = { { 5, 10 }, { 3, 50 }, { 3, 20 }, { 9, 1 }, { 3, 20 } };
	struct slot b[] = { { 5, 10 }, { 0, 0 }, { 1, 99 }, { 0, 0 } };
	struct slot c[] = { { 7, 7 }, { 7, 7 }, { 7, 7 } };

	check(tcd_evict_before(1, 100, 2, 0), "evict: fewer failures go first, however recent");
	check(!tcd_evict_before(2, 0, 1, 100), "evict: more failures stay, however old");
	check(tcd_evict_before(4, 10, 4, 11), "evict: on a tie the older goes first");
	check(!tcd_evict_before(4, 11, 4, 10), "evict: on a tie the newer stays");
	check(!tcd_evict_before(4, 10, 4, 10), "evict: an equal entry does not displace the victim");
	check(tcd_evict_before(0, 0, 1, 0), "evict: an empty slot goes before any used one");
	check(!tcd_evict_before(~0ULL, 0, ~0ULL - 1, ~0ULL), "evict: compares the full 64 bits");
	check_uint(fdest_victim(a, 5), 2, "failed list: fewest, then oldest, first of equals");
	check_uint(dest_victim(a, 5), 2, "eaddr list: fewest, then oldest, first of equals");
	check_uint(fdest_victim(b, 4), 1, "failed list: the first empty slot");
	check_uint(dest_victim(b, 4), 3, "eaddr list: the last empty slot");
	check_uint(fdest_victim(c, 3), 0, "failed list: all equal: the first");
	check_uint(dest_victim(c, 3), 0, "eaddr list: all equal: the first");
}

/* ---- comm sanitising ------------------------------------------------------------ */
static void sanitized(const char *comm, size_t len, const char *want, const char *what)
{
	struct tcd_thread t = { .pid = 1 };

	memset(t.comm, 'Z', sizeof(t.comm));
	memcpy(t.comm, comm, len);
	tcd_thread_sanitize(&t);
	check_str(t.comm, want, what);
}

static void test_sanitize(void)
{
	sanitized("kworker/0:1-ev", 15, "kworker/0:1-ev", "comm: printable kept");
	sanitized("a b\"c=d\te", 10, "a?b?c?d?e", "comm: space, quote, '=', tab replaced");
	sanitized("x\x7f\x80\xff~!", 7, "x???~!", "comm: DEL and bytes >= 0x80 replaced, '~' kept");
	sanitized("0123456789abcdefXYZ", 16, "0123456789abcde",
		  "comm: unterminated: cut at TASK_COMM_LEN - 1");
	sanitized("", 1, "", "comm: empty stays empty");
}

/* ---- endpoint formatting -------------------------------------------------------- */
static struct tcd_endpoint ep4(const char *a, u16 port)
{
	struct tcd_endpoint e;

	memset(&e, 0, sizeof(e));
	inet_pton(AF_INET, a, &e.addr.v4);
	e.port = port;
	return e;
}

static struct tcd_endpoint ep6(const char *a, u16 port)
{
	struct tcd_endpoint e;

	memset(&e, 0, sizeof(e));
	inet_pton(AF_INET6, a, &e.addr.v6);
	e.port = port;
	return e;
}

static void fmt(u16 family, struct tcd_endpoint e, size_t len, const char *want, int wret,
		const char *what)
{
	char buf[64];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = tcd_fmt_ep(buf, len, family, &e);
	check_str(len ? buf : "", want, what);
	check_uint(n, wret, what);
}

static void test_fmt_ep(void)
{
	fmt(AF_INET, ep4("192.0.2.1", 80), 64, "192.0.2.1:80", 12, "ep: IPv4");
	fmt(AF_INET, ep4("255.255.255.255", 65535), 64, "255.255.255.255:65535", 21,
	    "ep: IPv4, widest");
	fmt(AF_INET, ep4("0.0.0.0", 0), 64, "0.0.0.0:0", 9, "ep: IPv4 unset");
	fmt(AF_INET6, ep6("2001:db8::1", 443), 64, "[2001:db8::1]:443", 17, "ep: IPv6 compressed");
	fmt(AF_INET6, ep6("::ffff:192.0.2.7", 8080), 64, "[::ffff:192.0.2.7]:8080", 23,
	    "ep: IPv4-mapped IPv6");
	fmt(AF_INET6, ep6("1111:2222:3333:4444:5555:6666:7777:8888", 65535), 64,
	    "[1111:2222:3333:4444:5555:6666:7777:8888]:65535", 47, "ep: IPv6, widest fits 64");
	fmt(AF_INET, ep4("192.0.2.1", 80), 8, "192.0.2", 7, "ep: cut to the buffer, NUL kept");
	fmt(AF_INET6, ep6("::1", 22), 4, "[::", 3, "ep: IPv6 cut to the buffer");
	fmt(AF_INET, ep4("192.0.2.1", 80), 0, "", 0, "ep: zero-length buffer: nothing written");
}

/* ---- alert line length ---------------------------------------------------------- */
static void test_line(void)
{
	static struct tcd_line l;
	char want[TCD_ALERT_LEN];
	int i;

	memset(&l, 0, sizeof(l));
	tcd_line_add(&l, "event pid=%d", 42);
	tcd_line_add(&l, " dst=%s", "x");
	check_str(l.buf, "event pid=42 dst=x", "line: appends");
	check(l.len == 18 && !l.truncated, "line: len 18, not truncated");

	/* Exactly full: TCD_ALERT_LEN - 1 characters and the NUL. */
	memset(&l, 0, sizeof(l));
	for (i = 0; i < TCD_ALERT_LEN - 1; i++)
		tcd_line_add(&l, "%c", 'a' + i % 26);
	check(l.len == TCD_ALERT_LEN - 1 && !l.truncated && strlen(l.buf) == l.len,
	      "line: fills to TCD_ALERT_LEN - 1 without truncation");
	tcd_line_add(&l, "%s", "");
	check(!l.truncated, "line: an empty add to a full line is no truncation");
	tcd_line_add(&l, "X");
	check(l.truncated && l.len == TCD_ALERT_LEN - 1 && !l.buf[TCD_ALERT_LEN - 1] &&
	      l.buf[TCD_ALERT_LEN - 2] == 'a' + (TCD_ALERT_LEN - 2) % 26,
	      "line: one more character: truncated, len and content unchanged");

	/* Cut inside one add. */
	memset(&l, 0, sizeof(l));
	memset(want, 'b', sizeof(want));
	want[TCD_ALERT_LEN - 1] = '\0';
	tcd_line_add(&l, "%s", "bb");
	tcd_line_add(&l, "%s%s", want, " hint=\"...\"");
	check(l.truncated && l.len == TCD_ALERT_LEN - 1 && !strcmp(l.buf, want),
	      "line: an add past the end is cut at the buffer, NUL-terminated");
	tcd_line_add(&l, " more=%d", 1);
	check(l.truncated && l.len == TCD_ALERT_LEN - 1 && !strcmp(l.buf, want),
	      "line: adds after truncation change nothing");

	/* One short of full, then two characters: one fits. */
	memset(&l, 0, sizeof(l));
	want[TCD_ALERT_LEN - 2] = '\0';
	tcd_line_add(&l, "%s", want);
	check(!l.truncated && l.len == TCD_ALERT_LEN - 2, "line: one short of full");
	tcd_line_add(&l, "%s", "yz");
	check(l.truncated && l.len == TCD_ALERT_LEN - 1 && l.buf[TCD_ALERT_LEN - 2] == 'y' &&
	      !l.buf[TCD_ALERT_LEN - 1], "line: of two characters the first fits");
}

/* ---- alert limiter window ------------------------------------------------------ */
static void test_limit(void)
{
	struct tcd_limit l = { 0 };
	unsigned long t0 = 1000, iv = 5 * 250;
	unsigned int supp = 77, ok = 0, i;

	for (i = 0; i < 5; i++)
		ok += tcd_limit_take(&l, t0 + i, iv, 3, &supp);
	check(ok == 3 && l.suppressed == 2, "limit: burst 3 of 5 in a window, 2 suppressed");
	check_uint(supp, 0, "limit: the first lines report no earlier drops");
	check(!tcd_limit_take(&l, t0 + iv, iv, 3, &supp),
	      "limit: the window's last jiffy still belongs to it");
	supp = 77;
	check(tcd_limit_take(&l, t0 + iv + 1, iv, 3, &supp), "limit: the next jiffy opens a window");
	check_uint(supp, 3, "limit: its first line carries the 3 drops");
	check(tcd_limit_take(&l, t0 + iv + 2, iv, 3, &supp) && supp == 0,
	      "limit: the drops are reported once");
	check(l.window_start == t0 + iv + 1, "limit: the window starts at the opening line");

	/* jiffies wrap: a window that started just before it. */
	memset(&l, 0, sizeof(l));
	t0 = (unsigned long)-10;
	check(tcd_limit_take(&l, t0, iv, 1, &supp), "limit: a window just before the wrap");
	check(!tcd_limit_take(&l, t0 + 100, iv, 1, &supp),
	      "limit: same window across the jiffies wrap");
	check(tcd_limit_take(&l, t0 + iv + 1, iv, 1, &supp) && supp == 1,
	      "limit: the window ends after the wrap, drops carried");

	/* A burst of 0 prints nothing and counts every drop. */
	memset(&l, 0, sizeof(l));
	ok = 0;
	for (i = 0; i < 4; i++)
		ok += tcd_limit_take(&l, 500 + i * 2 * iv, iv, 0, &supp);
	check(!ok && l.suppressed == 4, "limit: alert_burst=0 suppresses all, counted");
}

int main(void)
{
	test_giveup();
	test_evict();
	test_sanitize();
	test_fmt_ep();
	test_line();
	test_limit();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
