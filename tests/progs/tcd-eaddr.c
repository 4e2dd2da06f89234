// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-eaddr: real EADDRNOTAVAIL failures of connect() for the eaddrnotavail
 * diagnosis (issue 6), with what the kernel really returned, so the test can
 * compare the module's report with it. Every line is "word key=value ...".
 *
 *   exhaust [-6|-m] [-t] [-c] [-l LPORT] N
 *	N connects to one loopback listener (on LPORT, default any), keeping
 *	every connection open (-c: close each one at once, client first, so
 *	its port sits in TIME_WAIT instead). One "connect" line per attempt,
 *	then "summary ... eaddrnotavail=COUNT". -t: connect from a second
 *	thread (its tid differs from the process id). The connections are
 *	reset at exit so they leave no TIME_WAIT behind. -m: IPv6 sockets
 *	connecting to ::ffff:127.0.0.1 (v4-mapped) on an IPv4 listener.
 *   exhaust-sockrange [-6] [-t] [-l LPORT] LOW HIGH N
 *	The same with IP_LOCAL_PORT_RANGE (LOW | HIGH << 16) on each socket.
 *	Exits 3 with "sockrange unsupported" if the kernel refuses the option.
 *   bound [-6|-m] [-l LPORT] established|closed|peerclosed
 *	Socket A binds loopback:P with SO_REUSEADDR and connects to the
 *	listener. established: A stays open. closed: A is closed, the peer
 *	keeps its end open, so A's 4-tuple is held in FIN_WAIT2. peerclosed:
 *	A is closed, then the peer, so A's 4-tuple is held in TIME_WAIT.
 *	Then socket B binds the same P with SO_REUSEADDR and connects to the
 *	same listener. Prints the holder's state from /proc/net/tcp{,6}
 *	(and TCP_INFO while A is open) before and after B's connect, and
 *	whether the holder is a timewait or a full socket.
 *   connect [-6] ADDR PORT [N]
 *	N plain connects; one "connect" line each.
 */
#include "tcdlib.h"
#include <pthread.h>

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

#define MAX_CONN 1024

static const char *errstr(int e)
{
	static char buf[32];

	if (e == ENOPROTOOPT)
		return "ENOPROTOOPT";
	if (strcmp(errname(e), "E?"))
		return errname(e);
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

static const char *tcp_state_name(int st)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
		[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
		[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
		[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	};

	if (st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) && names[st])
		return names[st];
	return st < 0 ? "none" : "UNKNOWN";
}

/*
 * State of the /proc/net/tcp{,6} row with local port @lport and remote port
 * @rport (timewait sockets show their substate there), or -1. *@tw (if not
 * NULL) tells whether the row is a timewait socket (timer field 3): an
 * orphaned FIN_WAIT2 may be either, and only a timewait one can be reused.
 */
static int proc_state_tw(int family, int lport, int rport, int *tw)
{
	FILE *f = fopen(family == AF_INET6 ? "/proc/net/tcp6" : "/proc/net/tcp", "r");
	char line[512], la[64], ra[64];
	unsigned int lp, rp, st, txq, rxq, tr;
	int state = -1;

	if (!f)
		die("open /proc/net/tcp");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x %x:%x %x:",
			   la, &lp, ra, &rp, &st, &txq, &rxq, &tr) != 8)
			continue;
		if ((int)lp == lport && (int)rp == rport) {
			state = st;
			if (tw)
				*tw = tr == 3;
			break;
		}
	}
	fclose(f);
	return state;
}

static int proc_state(int family, int lport, int rport)
{
	return proc_state_tw(family, lport, rport, NULL);
}

/* Poll until the holder row reaches @want (up to ~5 s); returns the last state. */
static int wait_state(int family, int lport, int rport, int want)
{
	int i, st = -1;

	for (i = 0; i < 500; i++) {
		st = proc_state(family, lport, rport);
		if (st == want)
			break;
		usleep(10000);
	}
	return st;
}

static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

#define MAPPED "::ffff:127.0.0.1"

struct exhaust {
	const char *ip;		/* NULL: the family's loopback */
	int family, lfd, lport, count, close_each;
	int sockrange, low, high;
	int ok, eaddr, other;
	int cfd[MAX_CONN], afd[MAX_CONN], ncfd, nafd;
};

static void *exhaust_run(void *arg)
{
	struct exhaust *x = arg;
	int i;

	for (i = 0; i < x->count; i++) {
		int fd = tcd_socket(x->family, 0), err, port = 0;

		if (x->sockrange) {
			unsigned int v = (unsigned int)x->low | (unsigned int)x->high << 16;

			if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v))) {
				printf("sockrange unsupported err=%s\n", errstr(errno));
				fflush(stdout);
				exit(3);
			}
			if (i == 0) {
				socklen_t len = sizeof(v);

				v = 0;
				if (getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, &len))
					printf("sockrange get_err=%s\n", errstr(errno));
				else
					printf("sockrange get=%u-%u\n", v & 0xffff, v >> 16);
			}
		}
		err = tcd_connect(fd, x->family, x->ip, x->lport);
		if (!err)
			port = tcd_port_of(fd);
		printf("connect %d err=%s port=%d tid=%d\n", i, errstr(err), port, tcd_gettid());
		if (err == EADDRNOTAVAIL)
			x->eaddr++;
		else if (err)
			x->other++;
		else
			x->ok++;
		if (err) {
			close(fd);
			continue;
		}
		{
			int afd = accept(x->lfd, NULL, NULL);

			if (afd < 0)
				die("accept");
			if (x->close_each) {
				/* Client first: its end goes FIN_WAIT2, then TIME_WAIT. */
				close(fd);
				wait_state(x->family, port, x->lport, 5);
				close(afd);
				wait_state(x->family, port, x->lport, 6);
			} else {
				x->cfd[x->ncfd++] = fd;
				x->afd[x->nafd++] = afd;
			}
		}
	}
	return NULL;
}

static int do_exhaust(int family, int mapped, int threaded, int close_each, int lport,
		      int count, int sockrange, int low, int high)
{
	static struct exhaust x;
	double t0;
	int i;

	if (count < 1 || count > MAX_CONN) {
		fprintf(stderr, "tcd-eaddr: N must be 1..%d\n", MAX_CONN);
		return 2;
	}
	x.family = mapped ? AF_INET6 : family;
	x.ip = mapped ? MAPPED : NULL;
	x.count = count;
	x.close_each = close_each;
	x.sockrange = sockrange;
	x.low = low;
	x.high = high;
	x.lfd = tcd_listen(mapped ? AF_INET : family, lport, MAX_CONN, &x.lport);
	printf("listen port=%d family=%s pid=%d\n", x.lport,
	       mapped ? "inet6-mapped" : family == AF_INET6 ? "inet6" : "inet", getpid());
	t0 = now_s();
	if (threaded) {
		pthread_t th;

		if (pthread_create(&th, NULL, exhaust_run, &x) || pthread_join(th, NULL))
			die("pthread");
	} else {
		exhaust_run(&x);
	}
	printf("summary attempts=%d ok=%d eaddrnotavail=%d other=%d pid=%d seconds=%.2f\n",
	       count, x.ok, x.eaddr, x.other, getpid(), now_s() - t0);
	fflush(stdout);
	/* Reset, not close: leave no TIME_WAIT to disturb the next run. */
	for (i = 0; i < x.ncfd; i++)
		reset_close(x.cfd[i]);
	for (i = 0; i < x.nafd; i++)
		close(x.afd[i]);
	close(x.lfd);
	return 0;
}

static int reuse_socket(int family)
{
	int one = 1, fd = tcd_socket(family, 0);

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	return fd;
}

static int do_bound(int family, int mapped, int lport, const char *mode)
{
	const char *ip = mapped ? MAPPED : NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, a, s, b, p, err, st, want, tw = 0;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	if (!strcmp(mode, "established"))
		want = 1;
	else if (!strcmp(mode, "closed"))
		want = 5;
	else if (!strcmp(mode, "peerclosed"))
		want = 6;
	else {
		fprintf(stderr, "tcd-eaddr: unknown bound mode %s\n", mode);
		return 2;
	}
	lfd = tcd_listen(mapped ? AF_INET : family, lport, 16, &lport);
	printf("listen port=%d family=%s pid=%d\n", lport,
	       mapped ? "inet6-mapped" : family == AF_INET6 ? "inet6" : "inet", getpid());
	if (mapped)
		family = AF_INET6;

	/* A: bound to a port the kernel picks, with SO_REUSEADDR. */
	a = reuse_socket(family);
	len = tcd_addr(&ss, family, ip, 0);
	if (bind(a, (struct sockaddr *)&ss, len))
		die("bind A");
	p = tcd_port_of(a);
	err = tcd_connect(a, family, ip, lport);
	printf("holder connect err=%s port=%d\n", errstr(err), p);
	if (err)
		return 1;
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		die("accept A");
	if (want == 1) {
		if (getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &tl))
			die("TCP_INFO");
		printf("holder tcp_info=%s\n", tcp_state_name(ti.tcpi_state));
	} else {
		close(a);
		st = wait_state(family, p, lport, 5);
		if (want == 6 && st == 5) {
			close(s);
			st = wait_state(family, p, lport, 6);
		}
	}
	st = proc_state_tw(family, p, lport, &tw);
	printf("holder state=%s kind=%s port=%d\n", tcp_state_name(st),
	       st < 0 ? "none" : tw ? "timewait" : "full", p);

	/* B: the same bound port, the same destination. */
	b = reuse_socket(family);
	len = tcd_addr(&ss, family, ip, p);
	if (bind(b, (struct sockaddr *)&ss, len)) {
		printf("bound bind_err=%s port=%d\n", errstr(errno), p);
		return 1;
	}
	err = tcd_connect(b, family, ip, lport);
	st = proc_state(family, p, lport);
	printf("bound err=%s port=%d dst_port=%d tid=%d pid=%d\n", errstr(err), p, lport,
	       tcd_gettid(), getpid());
	printf("holder_after state=%s port=%d\n", tcp_state_name(st), p);
	fflush(stdout);
	if (!err) {
		int c = accept(lfd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
	reset_close(b);
	if (want == 1)
		reset_close(a);
	return 0;
}

static int do_connect(int family, const char *ip, int port, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		int fd = tcd_socket(family, 1);
		int err = tcd_connect(fd, family, ip, port);

		printf("connect %d err=%s tid=%d\n", i, errstr(err), tcd_gettid());
		close(fd);
	}
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tcd-eaddr exhaust [-6|-m] [-t] [-c] [-l LPORT] N\n"
		"       tcd-eaddr exhaust-sockrange [-6] [-t] [-l LPORT] LOW HIGH N\n"
		"       tcd-eaddr bound [-6|-m] [-l LPORT] established|closed|peerclosed\n"
		"       tcd-eaddr connect [-6] ADDR PORT [N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int family = AF_INET, mapped = 0, threaded = 0, close_each = 0, lport = 0, n = 0, i;
	const char *pos[4];

	if (argc < 2)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else if (!strcmp(argv[i], "-m"))
			mapped = 1;
		else if (!strcmp(argv[i], "-t"))
			threaded = 1;
		else if (!strcmp(argv[i], "-c"))
			close_each = 1;
		else if (!strcmp(argv[i], "-l") && i + 1 < argc)
			lport = atoi(argv[++i]);
		else if (n < 4)
			pos[n++] = argv[i];
		else
			return usage();
	}
	if (!strcmp(argv[1], "exhaust") && n == 1)
		return do_exhaust(family, mapped, threaded, close_each, lport, atoi(pos[0]),
				  0, 0, 0);
	if (!strcmp(argv[1], "exhaust-sockrange") && n == 3)
		return do_exhaust(family, 0, threaded, close_each, lport, atoi(pos[2]), 1,
				  atoi(pos[0]), atoi(pos[1]));
	if (!strcmp(argv[1], "bound") && n == 1)
		return do_bound(family, mapped, lport, pos[0]);
	if (!strcmp(argv[1], "connect") && (n == 2 || n == 3))
		return do_connect(family, pos[0], atoi(pos[1]), n == 3 ? atoi(pos[2]) : 1);
	return usage();
}
