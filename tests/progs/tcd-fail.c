// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-fail MODE [-6] [-n] [-s SYNCNT] [ARGS]: failed connects for the
 * connect-failed tests. One line per attempt, "attempt N mode=M err=ERR
 * tid=T sport=P dport=P", err being what the program saw: connect()'s
 * errno (blocking), or SO_ERROR after poll() (-n, non-blocking).
 *   refused COUNT        connects to a closed loopback port
 *   backlog              one connect (TCP_SYNCNT 1 unless -s) into a loopback
 *                        listener whose accept queue is full (backlog 0, one
 *                        connection queued and never accepted)
 *   to IP PORT [COUNT]   connects to IP:PORT
 *   ok COUNT             successful connects to a loopback listener
 *   inprog IP PORT MS    a non-blocking connect left in progress MS ms, closed
 *   storm COUNT          COUNT blocking refused connects, then one summary
 *                        line "storm count=N refused=N"
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <poll.h>

static int nonblock, syncnt;

/* One attempt on a fresh socket; returns the errno the program saw. */
static int attempt(int family, const char *ip, int port, int *sportp)
{
	int fd = tcd_socket(family, syncnt), err, soerr = 0;
	socklen_t len = sizeof(soerr);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	err = tcd_connect(fd, family, ip, port);
	if (nonblock && err == EINPROGRESS) {
		if (poll(&pfd, 1, 200000) != 1)
			die("poll");
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
			die("SO_ERROR");
		err = soerr;
	}
	*sportp = tcd_port_of(fd);
	close(fd);
	return err;
}

static void report(int i, int err, int sport, int dport)
{
	printf("attempt %d mode=%s err=%s tid=%d sport=%d dport=%d\n", i,
	       nonblock ? "nonblocking" : "blocking", errname(err), tcd_gettid(), sport, dport);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int family = AF_INET, i, n = 0, port, lfd, sport, err;
	const char *mode, *pos[4];

	if (argc < 2) {
		fprintf(stderr, "usage: tcd-fail refused|backlog|to|ok|inprog|storm [-6] [-n] [-s N] ARGS\n");
		return 2;
	}
	mode = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else if (!strcmp(argv[i], "-n"))
			nonblock = 1;
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			syncnt = atoi(argv[++i]);
		else if (n < 4)
			pos[n++] = argv[i];
	}
	if (!strcmp(mode, "refused") || !strcmp(mode, "storm")) {
		int count = n ? atoi(pos[0]) : 1, refused = 0;

		lfd = tcd_listen(family, 0, 1, &port);
		close(lfd);	/* the port is now closed: RST */
		for (i = 0; i < count; i++) {
			err = attempt(family, NULL, port, &sport);
			refused += err == ECONNREFUSED;
			if (!strcmp(mode, "refused"))
				report(i, err, sport, port);
		}
		if (!strcmp(mode, "storm"))
			printf("storm count=%d refused=%d\n", count, refused);
	} else if (!strcmp(mode, "backlog")) {
		if (!syncnt)
			syncnt = 1;
		lfd = tcd_full_listener(family, &port);
		err = attempt(family, NULL, port, &sport);
		report(0, err, sport, port);
		close(lfd);
	} else if (!strcmp(mode, "to") && n >= 2) {
		int count = n > 2 ? atoi(pos[2]) : 1;

		port = atoi(pos[1]);
		for (i = 0; i < count; i++) {
			err = attempt(family, pos[0], port, &sport);
			report(i, err, sport, port);
		}
	} else if (!strcmp(mode, "ok")) {
		int count = n ? atoi(pos[0]) : 1;

		lfd = tcd_listen(family, 0, 1024, &port);
		for (i = 0; i < count; i++) {
			int c;

			err = attempt(family, NULL, port, &sport);
			report(i, err, sport, port);
			c = accept(lfd, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	} else if (!strcmp(mode, "inprog") && n >= 3) {
		int fd = tcd_socket(family, 0);

		fcntl(fd, F_SETFL, O_NONBLOCK);
		err = tcd_connect(fd, family, pos[0], atoi(pos[1]));
		usleep(atoi(pos[2]) * 1000);
		printf("inprog err=%s tid=%d sport=%d\n", errname(err), tcd_gettid(),
		       tcd_port_of(fd));
		close(fd);
	} else {
		fprintf(stderr, "tcd-fail: bad mode or arguments\n");
		return 2;
	}
	return 0;
}
