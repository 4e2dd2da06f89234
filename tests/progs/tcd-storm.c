// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-storm: connect() workloads for the reliability and security tests
 * (issue 4). Every mode is bounded in time and in count and exits by itself
 * (SIGALRM backs up the deadline should a thread ever hang).
 *
 * tcd-storm mix [-t SECS] [-n MAXOPS] [-p MS] [-6] [-k KIND:THREADS,...]
 *   Threads of each KIND loop until SECS pass, MAXOPS operations are done in
 *   all, or SIGTERM/SIGINT arrives (then they finish their current operation,
 *   at most ~4 s). Default mix: ok:2,refused:1,timeout:2,poison:2,exhaust:1,
 *   sender:2,shutdown:1. KINDs:
 *     ok        connect/accept/close on a loopback listener (also TIME_WAIT churn)
 *     refused   connect to a closed loopback port (RST)
 *     timeout   blocking connect, TCP_SYNCNT=1, into a listener that drops SYNs
 *     poison    blocking connect (TCP_SYNCNT=1) with a concurrent blocking
 *               send() on the same socket 0.1-0.9 s in, then a second
 *               (non-blocking) connect on the same fd: EINVAL when poisoned
 *     exhaust   A binds 127.0.0.1:P (SO_REUSEADDR) and connects; B binds the
 *               same P and connects to the same destination: EADDRNOTAVAIL
 *     sender    non-blocking connect into the dropping listener, then a
 *               blocking send() (SO_SNDTIMEO 0.1-0.3 s) waits for the connect
 *     shutdown  shutdown() 0.15-0.9 s into a blocking connect (EBUSY on 5.10)
 *     churn     sockets with rows opened and destroyed at a high rate: a sender
 *               waits in send() (SO_SNDTIMEO 20-60 ms) while the socket is
 *               left alone, disconnected (connect(AF_UNSPEC)), closed by
 *               another thread or shut down under it
 *   -6 alternates IPv4 and IPv6 (::1) in ok, refused, timeout, poison, sender
 *   and churn; -p MS pauses after each ok, refused and exhaust operation.
 *   Output: "outcome kind=K err=E count=N" per kind and result, then
 *   "storm seconds=S ops=N stopped_by=deadline|signal|maxops sockets=N".
 *
 * tcd-storm hold [-n N] [-s SYNCNT] [-b SRC] [-x CMD] [-w SECS] [-W FILE] DST PORT
 *   N non-blocking IPv4 connects (from SRC if given) to DST, DST+1, ... (last
 *   octet incremented), then "sh -c CMD", then hold every socket open until
 *   FILE exists or SECS (default 60) pass; then close them all. Lines:
 *   "connected n=N einprogress=N other=N", "cmd rc=N", "held", "settled"
 *   (no socket is in SYN_SENT any more), "closed".
 *
 * tcd-storm eaddr-flood [-d DESTS] [-p PORT] [-t SECS] [-q QUIET]
 *   Needs a narrow net.ipv4.ip_local_port_range. Listens on 0.0.0.0:PORT,
 *   fills the port range towards each of 127.0.0.2 .. 127.0.0.(DESTS+1) (the
 *   first failure of each is an event too), hammers all of them for SECS,
 *   waits QUIET seconds, connects once to each destination of the first half,
 *   waits QUIET seconds, once to each of the second half. Counts every
 *   EADDRNOTAVAIL it sees: "events fill=N storm=N flush1=N flush2=N total=N
 *   other=N".
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/time.h>

static atomic_int stop_flag;
static atomic_long ops_done;
static atomic_long sockets_opened;
static double deadline;
static long max_ops = 1000000;
static int use_v6;
static int pause_ms;	/* after each ok/refused/exhaust operation */

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !atomic_load(&stop_flag))
		;
}

/* Symbolic errno (tcdlib's errname() lacks a few that show up here). */
static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

static int rnd(unsigned int *seed, int lo, int hi)
{
	return lo + (int)(rand_r(seed) % (unsigned int)(hi - lo + 1));
}

/* ---- outcome accounting -------------------------------------------------- */

#define NR_ERRS 24
static const int known_errs[NR_ERRS] = {
	0, EINVAL, ETIMEDOUT, ECONNREFUSED, ECONNABORTED, ECONNRESET, EADDRNOTAVAIL,
	EADDRINUSE, ENETUNREACH, EHOSTUNREACH, EPIPE, EBUSY, EINPROGRESS, EALREADY,
	EISCONN, EAGAIN, EINTR, ENOTCONN, EMFILE, ENFILE, ENOBUFS, ENOMEM, EBADF, -1,
};

enum stat_id {
	S_OK, S_REFUSED, S_TIMEOUT, S_POISON_CONNECT, S_POISON_SEND, S_POISON_RECONNECT,
	S_EXHAUST_A, S_EXHAUST_B, S_SENDER_CONNECT, S_SENDER_SEND, S_SHUTDOWN,
	S_SHUTDOWN_CONNECT, S_CHURN_SEND, S_CHURN_DISCONNECT, S_CHURN_SHUTDOWN, S_NR
};

static const char *const stat_names[S_NR] = {
	"ok", "refused", "timeout", "poison-connect", "poison-send", "poison-reconnect",
	"exhaust-a", "exhaust-b", "sender-connect", "sender-send", "shutdown",
	"shutdown-connect", "churn-send", "churn-disconnect", "churn-shutdown",
};

static atomic_long stats[S_NR][NR_ERRS];

static void record(enum stat_id s, int err)
{
	int i;

	for (i = 0; i < NR_ERRS - 1; i++)
		if (known_errs[i] == err)
			break;
	atomic_fetch_add(&stats[s][i], 1);
}

static void print_stats(void)
{
	int s, i;

	for (s = 0; s < S_NR; s++)
		for (i = 0; i < NR_ERRS; i++) {
			long n = atomic_load(&stats[s][i]);

			if (n)
				printf("outcome kind=%s err=%s count=%ld\n", stat_names[s],
				       i == NR_ERRS - 1 ? "other" : ename(known_errs[i]), n);
		}
}

/* ---- shared endpoints ------------------------------------------------------ */

struct fam_ports {
	int ok_lfd, ok_port, refused_port, full_lfd, full_port;
};

static struct fam_ports fp[2];	/* [0] IPv4, [1] IPv6 */

static int fam_of(int i)
{
	return i ? AF_INET6 : AF_INET;
}

static void *acceptor(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c >= 0) {
			close(c);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
		    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(10);
			continue;
		}
		return NULL;	/* listener shut down */
	}
}

static int closed_port(int family)
{
	int port, lfd = tcd_listen(family, 0, 1, &port);

	close(lfd);
	return port;
}

static int new_socket(int family, int syncnt)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	atomic_fetch_add(&sockets_opened, 1);
	if (syncnt)
		setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt));
	return fd;
}

static void set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void set_sndtimeo(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int send_err(int fd)
{
	return send(fd, "x", 1, MSG_NOSIGNAL) < 0 ? errno : 0;
}

/* ---- workers --------------------------------------------------------------- */

struct worker {
	const char *kind;
	int idx;
	unsigned int seed;
	pthread_t th;
};

struct side {
	int fd, delay_ms, err;
	enum { SIDE_SEND, SIDE_CONNECT, SIDE_CLOSE } what;
	int family, port;
};

static void *side_thread(void *arg)
{
	struct side *s = arg;

	if (s->delay_ms)
		sleep_ms(s->delay_ms);
	switch (s->what) {
	case SIDE_SEND:
		s->err = send_err(s->fd);
		break;
	case SIDE_CONNECT:
		s->err = tcd_connect(s->fd, s->family, NULL, s->port);
		break;
	case SIDE_CLOSE:
		s->err = close(s->fd) ? errno : 0;
		break;
	}
	return NULL;
}

static int running(void)
{
	if (atomic_load(&stop_flag) || now_s() >= deadline)
		return 0;
	if (atomic_fetch_add(&ops_done, 1) >= max_ops) {
		atomic_store(&stop_flag, 2);
		return 0;
	}
	return 1;
}

static void op_simple(enum stat_id s, int family, int port, int syncnt)
{
	int fd = new_socket(family, syncnt);

	if (fd < 0) {
		record(s, errno);
		sleep_ms(10);
		return;
	}
	record(s, tcd_connect(fd, family, NULL, port));
	close(fd);
}

static void op_poison(struct worker *w, int family)
{
	struct side sd = { .what = SIDE_SEND };
	pthread_t th;
	int err;

	sd.fd = new_socket(family, 1);
	if (sd.fd < 0)
		return;
	set_sndtimeo(sd.fd, 5000);
	sd.delay_ms = rnd(&w->seed, 100, 900);
	if (pthread_create(&th, NULL, side_thread, &sd)) {
		close(sd.fd);
		return;
	}
	err = tcd_connect(sd.fd, family, NULL, fp[family == AF_INET6].full_port);
	record(S_POISON_CONNECT, err);
	pthread_join(th, NULL);
	record(S_POISON_SEND, sd.err);
	/* Non-blocking: EINVAL at once when poisoned, else a new SYN (EINPROGRESS). */
	set_nonblock(sd.fd, 1);
	record(S_POISON_RECONNECT, tcd_connect(sd.fd, family, NULL,
					       fp[family == AF_INET6].full_port));
	close(sd.fd);
}

static void op_exhaust(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, a, b, err;
	socklen_t len = sizeof(sa);

	a = new_socket(AF_INET, 0);
	b = new_socket(AF_INET, 0);
	if (a < 0 || b < 0)
		goto out;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(a, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(a, (struct sockaddr *)&sa, &len)) {
		record(S_EXHAUST_A, errno);
		goto out;
	}
	err = tcd_connect(a, AF_INET, NULL, fp[0].ok_port);
	record(S_EXHAUST_A, err);
	if (err)
		goto out;
	if (bind(b, (struct sockaddr *)&sa, sizeof(sa))) {
		record(S_EXHAUST_B, errno);
		goto out;
	}
	/* A's 4-tuple is still in use: EADDRNOTAVAIL. */
	record(S_EXHAUST_B, tcd_connect(b, AF_INET, NULL, fp[0].ok_port));
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

static void op_sender(struct worker *w, int family)
{
	int fd = new_socket(family, 1), err;

	if (fd < 0)
		return;
	set_nonblock(fd, 1);
	err = tcd_connect(fd, family, NULL, fp[family == AF_INET6].full_port);
	record(S_SENDER_CONNECT, err);
	if (err == EINPROGRESS) {
		set_nonblock(fd, 0);
		set_sndtimeo(fd, rnd(&w->seed, 100, 300));
		record(S_SENDER_SEND, send_err(fd));
	}
	close(fd);
}

static void op_shutdown(struct worker *w)
{
	struct side sd = { .what = SIDE_CONNECT, .family = AF_INET };
	pthread_t th;

	sd.fd = new_socket(AF_INET, 1);
	if (sd.fd < 0)
		return;
	sd.port = fp[0].full_port;
	if (pthread_create(&th, NULL, side_thread, &sd)) {
		close(sd.fd);
		return;
	}
	sleep_ms(rnd(&w->seed, 150, 900));
	record(S_SHUTDOWN, shutdown(sd.fd, SHUT_RDWR) ? errno : 0);
	pthread_join(th, NULL);
	record(S_SHUTDOWN_CONNECT, sd.err);
	close(sd.fd);
}

/* connect(AF_UNSPEC): tcp_disconnect() on the socket. */
static int disconnect_err(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	return connect(fd, &sa, sizeof(sa)) ? errno : 0;
}

/*
 * A socket with a row (a sender waiting for its connect), then destroyed.
 * Variants: the sender times out alone; the socket is disconnected
 * (connect(AF_UNSPEC)) under the sender: a disconnect-ebusy row on 5.10, a
 * sender-epipe row on 6.x, both kept until the socket dies; closed by
 * another thread while the sender waits; shut down under the sender.
 */
static void op_churn(struct worker *w, unsigned long iter)
{
	struct side sd = { .what = SIDE_SEND };
	int family = use_v6 && (iter & 4) ? AF_INET6 : AF_INET;
	pthread_t th;
	int err, v = iter % 4;

	sd.fd = new_socket(family, 1);
	if (sd.fd < 0) {
		sleep_ms(10);
		return;
	}
	set_nonblock(sd.fd, 1);
	err = tcd_connect(sd.fd, family, NULL, fp[family == AF_INET6].full_port);
	set_nonblock(sd.fd, 0);
	set_sndtimeo(sd.fd, rnd(&w->seed, 20, 60));
	if (err != EINPROGRESS) {
		record(S_CHURN_SEND, err);
		close(sd.fd);
		return;
	}
	if (v == 0) {
		record(S_CHURN_SEND, send_err(sd.fd));
		close(sd.fd);
		return;
	}
	if (pthread_create(&th, NULL, side_thread, &sd)) {
		close(sd.fd);
		return;
	}
	sleep_ms(rnd(&w->seed, 2, 15));
	switch (v) {
	case 1:
		record(S_CHURN_DISCONNECT, disconnect_err(sd.fd));
		break;
	case 2:
		close(sd.fd);
		sd.fd = -1;
		break;
	default:
		record(S_CHURN_SHUTDOWN, shutdown(sd.fd, SHUT_RDWR) ? errno : 0);
		break;
	}
	pthread_join(th, NULL);
	/* EBADF is possible when close() won before send() started. */
	record(S_CHURN_SEND, sd.err);
	if (sd.fd >= 0)
		close(sd.fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long iter = 0;

	while (running()) {
		int family = use_v6 && (iter & 1) ? AF_INET6 : AF_INET;
		int v6 = family == AF_INET6;

		if (!strcmp(w->kind, "ok"))
			op_simple(S_OK, family, fp[v6].ok_port, 0);
		else if (!strcmp(w->kind, "refused"))
			op_simple(S_REFUSED, family, fp[v6].refused_port, 0);
		else if (!strcmp(w->kind, "timeout"))
			op_simple(S_TIMEOUT, family, fp[v6].full_port, 1);
		else if (!strcmp(w->kind, "poison"))
			op_poison(w, family);
		else if (!strcmp(w->kind, "exhaust"))
			op_exhaust();
		else if (!strcmp(w->kind, "sender"))
			op_sender(w, family);
		else if (!strcmp(w->kind, "shutdown"))
			op_shutdown(w);
		else if (!strcmp(w->kind, "churn"))
			op_churn(w, iter);
		if (pause_ms && (!strcmp(w->kind, "ok") || !strcmp(w->kind, "refused") ||
				 !strcmp(w->kind, "exhaust")))
			sleep_ms(pause_ms);
		iter++;
	}
	return NULL;
}

static const char *const kinds[] = {
	"ok", "refused", "timeout", "poison", "exhaust", "sender", "shutdown", "churn",
};

static int mode_mix(int argc, char **argv)
{
	const char *spec = "ok:2,refused:1,timeout:2,poison:2,exhaust:1,sender:2,shutdown:1";
	struct worker *ws = NULL;
	int nw = 0, opt, i, secs = 30, nfam;
	pthread_t acc[2];
	double t0 = now_s();
	char *dup, *tok, *save;

	while ((opt = getopt(argc, argv, "t:n:k:p:6")) != -1) {
		switch (opt) {
		case 't': secs = atoi(optarg); break;
		case 'p': pause_ms = atoi(optarg); break;
		case 'n': max_ops = atol(optarg); break;
		case 'k': spec = optarg; break;
		case '6': use_v6 = 1; break;
		default: return 2;
		}
	}
	if (secs < 1 || secs > 3600 || max_ops < 1)
		return 2;
	deadline = t0 + secs;
	/* Backstop: no thread may outlive the deadline by more than a minute. */
	alarm(secs + 60);

	nfam = use_v6 ? 2 : 1;
	for (i = 0; i < nfam; i++) {
		fp[i].ok_lfd = tcd_listen(fam_of(i), 0, 1024, &fp[i].ok_port);
		fp[i].refused_port = closed_port(fam_of(i));
		fp[i].full_lfd = tcd_full_listener(fam_of(i), &fp[i].full_port);
		if (pthread_create(&acc[i], NULL, acceptor, &fp[i].ok_lfd))
			die("pthread_create");
	}

	dup = strdup(spec);
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		int n = colon ? atoi(colon + 1) : 1, k, known = 0;

		if (colon)
			*colon = '\0';
		for (k = 0; k < (int)(sizeof(kinds) / sizeof(kinds[0])); k++)
			known |= !strcmp(tok, kinds[k]);
		if (!known || n < 0 || n > 64) {
			fprintf(stderr, "tcd-storm: bad kind '%s'\n", tok);
			return 2;
		}
		ws = realloc(ws, (nw + n) * sizeof(*ws));
		for (k = 0; k < n; k++, nw++) {
			ws[nw].kind = strdup(tok);
			ws[nw].idx = nw;
			ws[nw].seed = (unsigned int)(getpid() * 7919 + nw * 104729);
		}
	}
	free(dup);
	for (i = 0; i < nw; i++)
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]))
			die("pthread_create");
	for (i = 0; i < nw; i++)
		pthread_join(ws[i].th, NULL);
	for (i = 0; i < nfam; i++) {
		shutdown(fp[i].ok_lfd, SHUT_RDWR);
		pthread_join(acc[i], NULL);
		close(fp[i].ok_lfd);
		close(fp[i].full_lfd);
	}
	print_stats();
	printf("storm seconds=%.1f ops=%ld stopped_by=%s sockets=%ld threads=%d\n",
	       now_s() - t0, atomic_load(&ops_done),
	       atomic_load(&stop_flag) == 1 ? "signal" :
	       atomic_load(&stop_flag) == 2 ? "maxops" : "deadline",
	       atomic_load(&sockets_opened), nw);
	fflush(stdout);
	return 0;
}

/* ---- hold ---------------------------------------------------------------- */

static int mode_hold(int argc, char **argv)
{
	int n = 10, syncnt = 0, wait_s = 60, opt, i, port, inprog = 0, other = 0, settled = 0;
	const char *src = NULL, *cmd = NULL, *file = NULL;
	struct in_addr dst;
	double end;
	int *fds;

	while ((opt = getopt(argc, argv, "n:s:b:x:w:W:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 's': syncnt = atoi(optarg); break;
		case 'b': src = optarg; break;
		case 'x': cmd = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		case 'W': file = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || n < 1 || n > 4096 || inet_pton(AF_INET, argv[optind], &dst) != 1)
		return 2;
	port = atoi(argv[optind + 1]);
	alarm(wait_s + 120);
	fds = calloc(n, sizeof(*fds));
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		int err;

		fds[i] = tcd_socket(AF_INET, syncnt);
		if (src) {
			struct sockaddr_in b = { .sin_family = AF_INET };

			if (inet_pton(AF_INET, src, &b.sin_addr) != 1 ||
			    bind(fds[i], (struct sockaddr *)&b, sizeof(b)))
				die("bind");
		}
		set_nonblock(fds[i], 1);
		sa.sin_addr.s_addr = htonl(ntohl(dst.s_addr) + i);
		err = connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		if (err == EINPROGRESS)
			inprog++;
		else
			other++;
	}
	printf("connected n=%d einprogress=%d other=%d\n", n, inprog, other);
	fflush(stdout);
	if (cmd) {
		int rc = system(cmd);

		printf("cmd rc=%d\n", rc);
	}
	printf("held\n");
	fflush(stdout);
	end = now_s() + wait_s;
	while (now_s() < end && !(file && access(file, F_OK) == 0)) {
		/* Tell when the kernel is done with every handshake. */
		if (!settled) {
			for (i = 0; i < n; i++) {
				struct tcp_info ti;
				socklen_t tl = sizeof(ti);

				if (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &ti, &tl) ||
				    ti.tcpi_state == TCP_SYN_SENT)
					break;
			}
			if (i == n) {
				settled = 1;
				printf("settled\n");
				fflush(stdout);
			}
		}
		sleep_ms(50);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	printf("closed\n");
	fflush(stdout);
	return 0;
}

/* ---- eaddr-flood ----------------------------------------------------------- */

static int flood_connect(int d, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), err;

	if (fd < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + d);
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	if (err)
		close(fd);
	return err ? err : -fd;	/* <= 0: an open connection (fd negated) */
}

static int mode_eaddr_flood(int argc, char **argv)
{
	int dests = 8, port = 5999, secs = 11, quiet = 6, opt, d, lfd, r;
	long fill = 0, storm = 0, flush1 = 0, flush2 = 0, other = 0;
	double end;

	while ((opt = getopt(argc, argv, "d:p:t:q:")) != -1) {
		switch (opt) {
		case 'd': dests = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'q': quiet = atoi(optarg); break;
		default: return 2;
		}
	}
	if (dests < 1 || dests > 200 || secs < 1 || secs > 120 || quiet < 0 || quiet > 60)
		return 2;
	alarm(secs + 2 * quiet + 120);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		int one = 1;

		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096))
			die("listen");
	}
	/* Fill: connections stay open (and unaccepted) until we exit. */
	for (d = 0; d < dests; d++) {
		int held = 0;

		for (;;) {
			r = flood_connect(d, port);
			if (r <= 0) {
				held++;
				if (held > 1000)
					die("port range not narrow");
				continue;
			}
			if (r == EADDRNOTAVAIL)
				fill++;
			else
				other++;
			break;
		}
		printf("fill dest=127.0.0.%d connected=%d\n", d + 2, held);
	}
	end = now_s() + secs;
	while (now_s() < end) {
		for (d = 0; d < dests; d++) {
			r = flood_connect(d, port);
			if (r == EADDRNOTAVAIL)
				storm++;
			else
				other++;
			if (r <= 0)
				close(-r);
		}
		sleep_ms(1);
	}
	sleep_ms(quiet * 1000);
	for (d = 0; d < dests / 2; d++) {
		r = flood_connect(d, port);
		if (r == EADDRNOTAVAIL)
			flush1++;
		else
			other++;
	}
	sleep_ms(quiet * 1000);
	for (d = dests / 2; d < dests; d++) {
		r = flood_connect(d, port);
		if (r == EADDRNOTAVAIL)
			flush2++;
		else
			other++;
	}
	printf("events fill=%ld storm=%ld flush1=%ld flush2=%ld total=%ld other=%ld\n", fill,
	       storm, flush1, flush2, fill + storm + flush1 + flush2, other);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "mix"))
		return mode_mix(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hold"))
		return mode_hold(argc - 1, argv + 1);
	if (!strcmp(argv[1], "eaddr-flood"))
		return mode_eaddr_flood(argc - 1, argv + 1);
usage:
	fprintf(stderr, "usage: tcd-storm mix|hold|eaddr-flood [OPTIONS] (see the source)\n");
	return 2;
}
