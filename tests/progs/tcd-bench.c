// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-bench SECONDS THREADS [-6] [-n]: loopback connect() -> accept() ->
 * close() cycles for a fixed time; prints "cycles_per_s=N". -n: the connect
 * is non-blocking (EINPROGRESS, poll() for POLLOUT, SO_ERROR), as event-loop
 * clients do. Each thread owns its
 * listener, so threads never contend in user space. The client closes with
 * SO_LINGER 0 (RST) so no TIME_WAIT piles up across rounds and ports never
 * run out: what is measured is the connect path, every cycle alike.
 */
#include <pthread.h>
#include <fcntl.h>
#include "tcdlib.h"

static double seconds;
static int family = AF_INET, nonblock;

/* One connect, blocking or the event-loop way; dies on failure. */
static void bench_connect(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t elen = sizeof(err);

	if (!nonblock) {
		if (connect(fd, (const struct sockaddr *)ss, len))
			die("connect");
		return;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (!connect(fd, (const struct sockaddr *)ss, len))
		return;
	if (errno != EINPROGRESS || poll(&pfd, 1, 5000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		die("non-blocking connect");
}

static void *worker(void *arg)
{
	long *cycles = arg;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_storage ss;
	int port, lfd = tcd_listen(family, 0, 128, &port);
	socklen_t len = tcd_addr(&ss, family, NULL, port);
	double end = now_s() + seconds;

	while (now_s() < end) {
		int i;

		for (i = 0; i < 64; i++) {
			int fd = socket(family, SOCK_STREAM, 0), afd;

			if (fd < 0)
				die("socket");
			bench_connect(fd, &ss, len);
			afd = accept(lfd, NULL, NULL);
			if (afd < 0)
				die("accept");
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			close(afd);
			(*cycles)++;
		}
	}
	close(lfd);
	return NULL;
}

/*
 * "tcd-bench modrange NAME": the module's core address range as a tracefs
 * filter on call_site (64-bit hex arithmetic the guest's shell cannot do).
 */
static int modrange(const char *name)
{
	char path[256], line[512], mod[64];
	unsigned long long text = 0, size = 0, base;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/sections/.text", name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llx", &text) != 1)
		die(path);
	fclose(f);
	f = fopen("/proc/modules", "r");
	if (!f)
		die("/proc/modules");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", mod, &size) == 2 && !strcmp(mod, name))
			break;
	fclose(f);
	/* .text may not start the core: widen by the whole core size both ways. */
	base = text - size;
	printf("call_site >= 0x%llx && call_site < 0x%llx\n", base, text + 2 * size);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "tcd-bench readtime FILE N": median time to read FILE whole, N times. */
static int readtime(const char *path, int n)
{
	double t[101];
	char buf[65536];
	long lines = 0;
	int i;

	if (n < 1 || n > 101)
		return 2;
	for (i = 0; i < n; i++) {
		FILE *f = fopen(path, "r");
		double t0 = now_s();
		size_t got, j;

		if (!f)
			die(path);
		lines = 0;
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			for (j = 0; j < got; j++)
				lines += buf[j] == '\n';
		fclose(f);
		t[i] = now_s() - t0;
	}
	qsort(t, n, sizeof(t[0]), cmp_double);
	printf("lines=%ld median_ms=%.2f\n", lines, t[n / 2] * 1000);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t tids[64];
	long cycles[64] = { 0 }, total = 0;
	int i, n;
	double t0;

	if (argc == 4 && !strcmp(argv[1], "readtime"))
		return readtime(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "modrange"))
		return modrange(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: tcd-bench SECONDS THREADS [-6] [-n]\n");
		return 2;
	}
	seconds = atof(argv[1]);
	n = atoi(argv[2]);
	if (n < 1 || n > 64)
		return 2;
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else if (!strcmp(argv[i], "-n"))
			nonblock = 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		pthread_create(&tids[i], NULL, worker, &cycles[i]);
	for (i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		total += cycles[i];
	}
	printf("cycles=%ld seconds=%.3f cycles_per_s=%.0f\n", total, now_s() - t0,
	       total / (now_s() - t0));
	return 0;
}
