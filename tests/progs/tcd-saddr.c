// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-saddr: the source-address stall, for real (issue 7).
 *
 *   tcd-saddr connect     [OPTS] DST PORT   blocking connect(), optionally from a
 *                                           bound source address
 *   tcd-saddr established [OPTS] DST PORT   connect, stop the peer (-y), send data,
 *                                           then block in recv() until the
 *                                           connection dies (or -w runs out)
 *   tcd-saddr listen [-6] ADDR PORT         peer for "established": accept and
 *                                           read until EOF or error
 * OPTS:
 *   -6          IPv6
 *   -b SRC      bind to SRC (port 0) before connect()
 *   -n SYNCNT   TCP_SYNCNT
 *   -u MS       TCP_USER_TIMEOUT
 *   -x SECS CMD run "sh -c CMD" SECS seconds after connect() started
 *               (established: after the data was sent), while we block
 *   -y CMD      established: run CMD once connected, before sending
 *   -d BYTES    established: bytes to send (default 1000)
 *   -w SECS     established: recv() timeout (default 60)
 *   -p FILE     copy /proc/tcpconndiag to FILE before closing the socket
 *   -m TAG      tag of the output lines and kernel-log markers (default "saddr")
 *   -N          connect: non-blocking; poll by calling connect() again every
 *               200 ms until it stops saying EALREADY (connect-end: the result)
 *   -k LIST     connect: send SIGUSR1 (no-op handler, SA_RESTART) to the connecting
 *               thread at each of these comma-separated times (s after connect()
 *               started): the kernel interrupts and restarts the connect()
 *
 * SIGCHLD is blocked in every thread, so the -x/-y commands' exits do not
 * interrupt the blocking call (an unblocked SIGCHLD would make the kernel
 * restart connect() behind our back).
 *
 * Every output line is "EVENT key=value ...", times in seconds of
 * CLOCK_MONOTONIC (mono=) and CLOCK_BOOTTIME (boot=). The main events are also
 * written to /dev/kmsg as "tcd-saddr: TAG EVENT ...", so their order against
 * the module's alerts can be read from one clock, the kernel log's. A watcher
 * thread samples getsockname() and TCP_INFO while we block and reports every
 * change of the source address and of the kernel's retransmission counters.
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>

static const char *tag = "saddr";
static int kmsg_fd = -1;
static int family = AF_INET;
static int sock_fd = -1;
static atomic_int done;
static atomic_int signals_handled;
static pthread_t main_thread;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One output line; with @to_kmsg also a KERN_INFO kernel-log marker. */
static void __attribute__((format(printf, 3, 4)))
event(int to_kmsg, const char *name, const char *fmt, ...)
{
	char rest[512], line[640];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%s tag=%s mono=%.6f boot=%.6f%s%s", name, tag,
		     clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_BOOTTIME), rest[0] ? " " : "",
		     rest);
	printf("%s\n", line);
	if (to_kmsg && kmsg_fd >= 0) {
		char k[700];

		n = snprintf(k, sizeof(k), "<6>tcd-saddr: %s\n", line);
		if (write(kmsg_fd, k, n) < 0)
			printf("kmsg-failed tag=%s errno=%s\n", tag, errname(errno));
	}
}

static void fmt_sa(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%d", ip, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%d", ip, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "none");
	}
}

/* The socket's current source as ip:port (the module's spelling). */
static void local_of(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		snprintf(buf, len, "E:%s", errname(errno));
	else
		fmt_sa(buf, len, &ss);
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Copy /proc/tcpconndiag to @path (the socket's row vanishes with the socket). */
static void dump_proc(const char *path)
{
	char buf[4096];
	int in, out;
	ssize_t n;

	if (!path)
		return;
	in = open("/proc/tcpconndiag", O_RDONLY);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0) {
		event(0, "proc-dump-failed", "errno=%s", errname(errno));
	} else {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n)
				break;
		event(0, "proc-dumped", "file=%s", path);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

/* -x: run a command at a given time while the main thread blocks. */
struct cmd_arg {
	double at;		/* CLOCK_MONOTONIC seconds */
	const char *cmd;
};

static void *cmd_thread(void *p)
{
	struct cmd_arg *a = p;
	char src[80];
	int rc;

	while (!atomic_load(&done) && clock_s(CLOCK_MONOTONIC) < a->at)
		sleep_s(0.005);
	if (atomic_load(&done)) {
		event(1, "cmd-skipped", "why=main-thread-already-returned");
		return NULL;
	}
	local_of(sock_fd, src, sizeof(src));
	event(1, "cmd-start", "src=%s", src);
	rc = system(a->cmd);
	event(1, "cmd-end", "rc=%d main_blocked=%d cmd=\"%s\"", rc, !atomic_load(&done), a->cmd);
	return NULL;
}

/* -k: interrupt the connecting thread with SIGUSR1 at given times. */
struct sig_arg {
	double t0;
	const char *list;
};

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_handled, 1);
}

static void *sig_thread(void *p)
{
	struct sig_arg *a = p;
	const char *s = a->list;
	char *end;

	while (*s) {
		double at = a->t0 + strtod(s, &end);

		if (end == s)
			break;
		while (!atomic_load(&done) && clock_s(CLOCK_MONOTONIC) < at)
			sleep_s(0.005);
		if (atomic_load(&done))
			break;
		event(1, "signal", "sig=SIGUSR1 to_tid_of=main");
		pthread_kill(main_thread, SIGUSR1);
		s = *end == ',' ? end + 1 : end;
	}
	return NULL;
}

/* Watcher: report every change of the source address and retransmit counters. */
static void *watch_thread(void *p)
{
	char last[80] = "", cur[80];
	int last_rt = -1, last_tot = -1, last_state = -1;

	(void)p;
	while (!atomic_load(&done)) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		local_of(sock_fd, cur, sizeof(cur));
		if (strcmp(cur, last)) {
			event(1, "src", "src=%s", cur);
			strcpy(last, cur);
		}
		memset(&ti, 0, sizeof(ti));
		if (!getsockopt(sock_fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) &&
		    (ti.tcpi_retransmits != last_rt || (int)ti.tcpi_total_retrans != last_tot ||
		     ti.tcpi_state != last_state)) {
			event(1, "tcpinfo", "state=%u retransmits=%u backoff=%u total_retrans=%u",
			      ti.tcpi_state, ti.tcpi_retransmits, ti.tcpi_backoff,
			      ti.tcpi_total_retrans);
			last_rt = ti.tcpi_retransmits;
			last_tot = ti.tcpi_total_retrans;
			last_state = ti.tcpi_state;
		}
		sleep_s(0.02);
	}
	return NULL;
}

static int listen_mode(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = tcd_addr(&ss, family, addr, port);
	int one = 1, lfd = socket(family, SOCK_STREAM, 0), afd;
	char buf[4096];
	ssize_t n, total = 0;

	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 8))
		die("bind/listen");
	event(0, "listening", "addr=%s port=%d", addr, port);
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		die("accept");
	event(0, "accepted", "%s", "");
	while ((n = read(afd, buf, sizeof(buf))) > 0)
		total += n;
	event(0, "peer-end", "bytes=%zd err=%s", total, n < 0 ? errname(errno) : "0");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcd-saddr connect|established [-6] [-N] [-b SRC] [-n SYNCNT] [-u MS]\n"
		"                 [-x SECS CMD] [-y CMD] [-k SECS,...] [-d BYTES] [-w SECS] [-p FILE]\n"
		"                 [-m TAG] DST PORT\n"
		"       tcd-saddr listen [-6] ADDR PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode, *src = NULL, *xcmd = NULL, *ycmd = NULL, *proc = NULL, *dst;
	const char *klist = NULL;
	struct sig_arg sarg;
	pthread_t sth;
	sigset_t chld;
	int i, port, syncnt = 0, user_to = 0, bytes = 1000, wait_s = 60, err, nonblock = 0;
	int polls = 0;
	double xsecs = 0, t0, t1;
	struct cmd_arg carg;
	pthread_t cth, wth;
	char s[80];

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);	/* inherited by every thread */
	main_thread = pthread_self();
	if (argc < 2)
		usage();
	mode = argv[1];
	for (i = 2; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-6")) {
			family = AF_INET6;
			continue;
		}
		if (!strcmp(o, "-N")) {
			nonblock = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(o, "-b"))
			src = argv[++i];
		else if (!strcmp(o, "-n"))
			syncnt = atoi(argv[++i]);
		else if (!strcmp(o, "-u"))
			user_to = atoi(argv[++i]);
		else if (!strcmp(o, "-d"))
			bytes = atoi(argv[++i]);
		else if (!strcmp(o, "-w"))
			wait_s = atoi(argv[++i]);
		else if (!strcmp(o, "-p"))
			proc = argv[++i];
		else if (!strcmp(o, "-m"))
			tag = argv[++i];
		else if (!strcmp(o, "-y"))
			ycmd = argv[++i];
		else if (!strcmp(o, "-k"))
			klist = argv[++i];
		else if (!strcmp(o, "-x") && i + 2 < argc) {
			xsecs = atof(argv[++i]);
			xcmd = argv[++i];
		} else
			usage();
	}
	if (argc - i != 2)
		usage();
	dst = argv[i];
	port = atoi(argv[i + 1]);
	if (!strcmp(mode, "listen"))
		return listen_mode(dst, port);
	if (strcmp(mode, "connect") && strcmp(mode, "established"))
		usage();

	kmsg_fd = open("/dev/kmsg", O_WRONLY);
	printf("ids tag=%s tid=%d tgid=%d\n", tag, tcd_gettid(), getpid());
	sock_fd = tcd_socket(family, syncnt);
	if (user_to && setsockopt(sock_fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_to,
				  sizeof(user_to)))
		die("TCP_USER_TIMEOUT");
	if (src) {
		struct sockaddr_storage ss;
		socklen_t len = tcd_addr(&ss, family, src, 0);

		if (bind(sock_fd, (struct sockaddr *)&ss, len))
			die("bind");
	}
	local_of(sock_fd, s, sizeof(s));

	if (!strcmp(mode, "connect")) {
		if (pthread_create(&wth, NULL, watch_thread, NULL))
			die("pthread_create");
		t0 = clock_s(CLOCK_MONOTONIC);
		if (xcmd) {
			carg.at = t0 + xsecs;
			carg.cmd = xcmd;
			if (pthread_create(&cth, NULL, cmd_thread, &carg))
				die("pthread_create");
		}
		if (klist) {
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_usr1;
			sa.sa_flags = SA_RESTART;
			sigaction(SIGUSR1, &sa, NULL);
			sarg.t0 = t0;
			sarg.list = klist;
			if (pthread_create(&sth, NULL, sig_thread, &sarg))
				die("pthread_create");
		}
		if (nonblock && fcntl(sock_fd, F_SETFL, O_NONBLOCK))
			die("O_NONBLOCK");
		event(1, "connect-start", "tid=%d src=%s nonblock=%d", tcd_gettid(), s, nonblock);
		err = tcd_connect(sock_fd, family, dst, port);
		while (nonblock && (err == EINPROGRESS || err == EALREADY)) {
			sleep_s(0.2);
			err = tcd_connect(sock_fd, family, dst, port);
			polls++;
		}
		if (nonblock && err == EISCONN)
			err = 0;
		t1 = clock_s(CLOCK_MONOTONIC);
		atomic_store(&done, 1);
		event(1, "connect-end", "tid=%d err=%s ms=%.0f signals=%d polls=%d", tcd_gettid(),
		      errname(err), (t1 - t0) * 1e3, atomic_load(&signals_handled), polls);
		if (klist)
			pthread_join(sth, NULL);
	} else {
		char buf[65536];
		struct timeval tv = { wait_s, 0 };
		ssize_t n;

		err = tcd_connect(sock_fd, family, dst, port);
		local_of(sock_fd, s, sizeof(s));
		event(1, "connected", "tid=%d err=%s src=%s", tcd_gettid(), errname(err), s);
		if (err)
			return 1;
		if (ycmd)
			event(0, "pre-cmd-end", "rc=%d cmd=\"%s\"", system(ycmd), ycmd);
		if (bytes > (int)sizeof(buf))
			bytes = sizeof(buf);
		memset(buf, 'x', bytes);
		n = send(sock_fd, buf, bytes, 0);
		t0 = clock_s(CLOCK_MONOTONIC);
		event(1, "sent", "bytes=%zd err=%s", n, n < 0 ? errname(errno) : "0");
		if (pthread_create(&wth, NULL, watch_thread, NULL))
			die("pthread_create");
		if (xcmd) {
			carg.at = t0 + xsecs;
			carg.cmd = xcmd;
			if (pthread_create(&cth, NULL, cmd_thread, &carg))
				die("pthread_create");
		}
		setsockopt(sock_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		event(1, "recv-start", "tid=%d", tcd_gettid());
		n = recv(sock_fd, buf, sizeof(buf), 0);
		err = n < 0 ? errno : 0;
		t1 = clock_s(CLOCK_MONOTONIC);
		atomic_store(&done, 1);
		event(1, "recv-end", "tid=%d n=%zd err=%s ms_after_send=%.0f", tcd_gettid(), n,
		      errname(err), (t1 - t0) * 1e3);
	}
	if (xcmd)
		pthread_join(cth, NULL);
	pthread_join(wth, NULL);
	{
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		getsockopt(sock_fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
		local_of(sock_fd, s, sizeof(s));
		event(0, "final", "state=%u retransmits=%u total_retrans=%u src=%s",
		      ti.tcpi_state, ti.tcpi_retransmits, ti.tcpi_total_retrans, s);
	}
	dump_proc(proc);
	close(sock_fd);
	return 0;
}
