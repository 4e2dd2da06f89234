// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-many: many sockets at once, for the scale tests.
 *   timeouts N     N threads, each one blocking connect() (TCP_SYNCNT=1) into
 *                  a listener that drops SYNs; prints how many got each errno.
 *   fill N SRC DST N non-blocking connects from SRC (bound, port 0) to DST:9;
 *                  prints "filled N" once all are in flight, then holds the
 *                  sockets until its standard input reaches EOF.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "tcdlib.h"

static int port;
static pthread_barrier_t start;
static int errs[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *one_timeout(void *arg)
{
	int fd = tcd_socket(AF_INET, 1), err;

	pthread_barrier_wait(&start);
	err = tcd_connect(fd, AF_INET, NULL, port);
	pthread_mutex_lock(&lock);
	errs[err < 256 ? err : 255]++;
	pthread_mutex_unlock(&lock);
	close(fd);
	return NULL;
}

static void raise_nofile(int n)
{
	struct rlimit rl = { n + 64, n + 64 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
}

static int timeouts(int n)
{
	enum { STACK = 64 * 1024 };
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t attr;
	char *stacks;
	int i;

	raise_nofile(n);
	tcd_full_listener(AF_INET, &port);
	/*
	 * Stacks of our own, one mapping for all: the threads time out
	 * together, and glibc would madvise() each stack of its own away at
	 * thread exit, a TLB-shootdown IPI each; 10 000 at once starve a TCG
	 * guest's RCU kthread into stall reports that have nothing to do with
	 * the module.
	 */
	stacks = mmap(NULL, (size_t)n * STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED)
		die("mmap");
	pthread_attr_init(&attr);
	pthread_barrier_init(&start, NULL, n);
	for (i = 0; i < n; i++)
		if (pthread_attr_setstack(&attr, stacks + (size_t)i * STACK, STACK) ||
		    pthread_create(&t[i], &attr, one_timeout, NULL))
			die("pthread_create");
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 256; i++)
		if (errs[i])
			printf("result err=%s count=%d\n", errname(i), errs[i]);
	return 0;
}

static int fill(int n, const char *src, const char *dst)
{
	struct sockaddr_storage ss;
	int i, family = strchr(src, ':') ? AF_INET6 : AF_INET;
	char c;

	raise_nofile(n);
	for (i = 0; i < n; i++) {
		int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		socklen_t len = tcd_addr(&ss, family, src, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len))
			die("socket/bind");
		if (tcd_connect(fd, family, dst, 9) != EINPROGRESS)
			die("non-blocking connect");
	}
	printf("filled %d\n", n);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "timeouts"))
		return timeouts(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "fill"))
		return fill(atoi(argv[2]), argv[3], argv[4]);
	fprintf(stderr, "usage: tcd-many timeouts N | fill N SRC DST\n");
	return 2;
}
