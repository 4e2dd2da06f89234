// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-poison MODE [-6] [-s DIR] ROUNDS: the poisoned-socket reproducers.
 * Every round uses a fresh socket (TCP_SYNCNT=1) that connects into a
 * listener dropping every SYN, and fresh threads, so each round's thread
 * ids are unique and the test can match the module's report to the round.
 *
 *   race      thread "tcdp-conn" connects; thread "tcdp-send" starts a
 *             blocking send(MSG_NOSIGNAL) 0.1-0.9 s into the connect. After
 *             both returned, tcdp-conn connects again (blocking) and a third
 *             time with SO_SNDTIMEO 0.3 s (a healthy socket answers
 *             EINPROGRESS after 0.3 s instead of waiting out another SYN
 *             period; a poisoned one answers EINVAL at once).
 *   recvrace  the same with thread "tcdp-recv" blocked in recv() instead
 *             of send(): every sk_wait_event() sleeper counts.
 *   shutdown  thread "tcdp-conn" connects; thread "tcdp-shut" calls
 *             shutdown(SHUT_RDWR) 0.2-1 s into the connect.
 *
 * With -s DIR, tcdp-conn copies /proc/tcpconndiag to DIR/MODE-FAM-ROUND.txt
 * while the socket is still open (the module drops a row when its socket is
 * destroyed). One line per round, key=value, with what the kernel returned:
 *   race|recvrace round=N fam=4|6 connect_tid=T sender_tid=T delay=S sport=P dport=P
 *        connect1=ERR connect1_s=S send=ERR send_start_s=S send_s=S connect2=ERR
 *        connect2_s=S connect3=ERR einval=N snap=FILE|-
 *   shutdown round=N fam=4|6 connect_tid=T shutdown_tid=T delay=S sport=P dport=P
 *        shutdown=ERR shutdown_s=S connect=ERR connect_s=S snap=FILE|-
 * (ERR is "0" for success; recvrace's send* fields are its recv()'s; send*_s and shutdown_s are seconds since the
 * first connect began, connect*_s are durations.)
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>

struct round {
	const char *mode;
	int nr, family, port, fd, sport;
	const char *snapdir;
	char snap[256];
	double t0, delay;
	pid_t conn_tid, other_tid;
	int other_err;		/* send() or shutdown() errno */
	double other_start_s;	/* when it called send()/shutdown(), relative to t0 */
	double other_s;		/* when it returned, relative to t0 */
	int c1, c2, c3;
	double c1_s, c2_s;
};

/* errname() or, for an errno it does not know, "E<number>". */
static const char *ename(int e)
{
	static __thread char buf[6][16];
	static __thread int n;
	const char *s = errname(e);

	if (strcmp(s, "E?"))
		return s;
	n = (n + 1) % 6;
	snprintf(buf[n], sizeof(buf[n]), "E%d", e);
	return buf[n];
}

static void sleep_until(double t)
{
	struct timespec ts;
	double now = now_s();

	if (t <= now)
		return;
	t -= now;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The ephemeral port while the connect is pending (0 if it already ended). */
static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						 ((struct sockaddr_in *)&ss)->sin_port);
}

static void *sender(void *arg)
{
	struct round *r = arg;
	char c = 'x';

	prctl(PR_SET_NAME, "tcdp-send");
	r->other_tid = tcd_gettid();
	sleep_until(r->t0 + r->delay);
	r->sport = local_port(r->fd);
	r->other_start_s = now_s() - r->t0;
	/* Blocks in sk_stream_wait_connect() until the connect ends. */
	r->other_err = send(r->fd, &c, 1, MSG_NOSIGNAL) < 0 ? errno : 0;
	r->other_s = now_s() - r->t0;
	return NULL;
}

static void *receiver(void *arg)
{
	struct round *r = arg;
	char c;

	prctl(PR_SET_NAME, "tcdp-recv");
	r->other_tid = tcd_gettid();
	sleep_until(r->t0 + r->delay);
	r->sport = local_port(r->fd);
	r->other_start_s = now_s() - r->t0;
	/* Blocks in sk_wait_data() until the connect ends. */
	r->other_err = recv(r->fd, &c, 1, 0) < 0 ? errno : 0;
	r->other_s = now_s() - r->t0;
	return NULL;
}

static void *shutter(void *arg)
{
	struct round *r = arg;

	prctl(PR_SET_NAME, "tcdp-shut");
	r->other_tid = tcd_gettid();
	sleep_until(r->t0 + r->delay);
	r->sport = local_port(r->fd);
	r->other_start_s = now_s() - r->t0;
	r->other_err = shutdown(r->fd, SHUT_RDWR) ? errno : 0;
	r->other_s = now_s() - r->t0;
	return NULL;
}

/* Copy /proc/tcpconndiag while the round's socket is still open. */
static void snapshot(struct round *r)
{
	char buf[4096];
	int in, out;
	ssize_t n;

	if (!r->snapdir) {
		strcpy(r->snap, "-");
		return;
	}
	snprintf(r->snap, sizeof(r->snap), "%s/%s-%d-%d.txt", r->snapdir, r->mode,
		 r->family == AF_INET6 ? 6 : 4, r->nr);
	in = open("/proc/tcpconndiag", O_RDONLY);
	out = open(r->snap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		die(r->snap);
	if (in < 0) {
		dprintf(out, "tcd-poison: cannot open /proc/tcpconndiag: %s\n", strerror(errno));
	} else {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n)
				die("write snapshot");
		close(in);
	}
	close(out);
}

static void *connector(void *arg)
{
	struct round *r = arg;
	int recvrace = !strcmp(r->mode, "recvrace");
	int race = recvrace || !strcmp(r->mode, "race");
	struct timeval tv = { 0, 300000 };
	pthread_t th;
	double t;

	prctl(PR_SET_NAME, "tcdp-conn");
	r->conn_tid = tcd_gettid();
	r->fd = tcd_socket(r->family, 1);
	r->t0 = now_s();
	if (pthread_create(&th, NULL, recvrace ? receiver : race ? sender : shutter, r))
		die("pthread_create");
	r->c1 = tcd_connect(r->fd, r->family, NULL, r->port);
	r->c1_s = now_s() - r->t0;
	pthread_join(th, NULL);
	if (race) {
		t = now_s();
		r->c2 = tcd_connect(r->fd, r->family, NULL, r->port);
		r->c2_s = now_s() - t;
		if (setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
			die("SO_SNDTIMEO");
		r->c3 = tcd_connect(r->fd, r->family, NULL, r->port);
	}
	snapshot(r);
	close(r->fd);
	return NULL;
}

int main(int argc, char **argv)
{
	int family = AF_INET, rounds = 0, i, port, lfd;
	const char *mode, *snapdir = NULL;
	pthread_t th;

	if (argc < 3 || (strcmp(argv[1], "race") && strcmp(argv[1], "recvrace") &&
			 strcmp(argv[1], "shutdown"))) {
		fprintf(stderr, "usage: tcd-poison race|recvrace|shutdown [-6] [-s DIR] ROUNDS\n");
		return 2;
	}
	mode = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			snapdir = argv[++i];
		else
			rounds = atoi(argv[i]);
	}
	if (rounds <= 0) {
		fprintf(stderr, "tcd-poison: ROUNDS must be positive\n");
		return 2;
	}
	lfd = tcd_full_listener(family, &port);
	for (i = 0; i < rounds; i++) {
		struct round r = {
			.mode = mode, .nr = i, .family = family, .port = port,
			.snapdir = snapdir,
		};

		/* Vary where the second thread hits the connect. */
		if (strcmp(mode, "shutdown"))
			r.delay = 0.1 + 0.1 * ((i * 7) % 9);		/* 0.1 .. 0.9 s */
		else
			r.delay = 0.2 + 0.2 * ((i * 3) % 5);		/* 0.2 .. 1.0 s */
		if (pthread_create(&th, NULL, connector, &r))
			die("pthread_create");
		pthread_join(th, NULL);
		if (strcmp(mode, "shutdown"))
			printf("%s round=%d fam=%d connect_tid=%d sender_tid=%d delay=%.2f sport=%d dport=%d connect1=%s connect1_s=%.2f send=%s send_start_s=%.2f send_s=%.2f connect2=%s connect2_s=%.2f connect3=%s einval=%d snap=%s\n",
			       mode, i, family == AF_INET6 ? 6 : 4, r.conn_tid, r.other_tid, r.delay,
			       r.sport, port, ename(r.c1), r.c1_s, ename(r.other_err), r.other_start_s, r.other_s,
			       ename(r.c2), r.c2_s, ename(r.c3),
			       (r.c1 == EINVAL) + (r.c2 == EINVAL) + (r.c3 == EINVAL), r.snap);
		else
			printf("shutdown round=%d fam=%d connect_tid=%d shutdown_tid=%d delay=%.2f sport=%d dport=%d shutdown=%s shutdown_s=%.2f connect=%s connect_s=%.2f snap=%s\n",
			       i, family == AF_INET6 ? 6 : 4, r.conn_tid, r.other_tid, r.delay,
			       r.sport, port, ename(r.other_err), r.other_s, ename(r.c1), r.c1_s,
			       r.snap);
		fflush(stdout);
	}
	close(lfd);
	return 0;
}
