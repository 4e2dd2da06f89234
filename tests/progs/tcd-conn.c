// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-conn MODE [-6] [COUNT]: drive ordinary connect() outcomes for the
 * module-core tests. Prints one line per attempt, "connect N err=ERRNAME
 * tid=T seconds=S", so the test compares the module's report with what the
 * kernel really returned.
 *   ok       COUNT connect/accept/close cycles to a loopback listener
 *   refused  COUNT connects to a closed loopback port
 *   timeout  COUNT connects (TCP_SYNCNT=1) into a listener that drops SYNs
 *   isconn   COUNT ok cycles, each connect()ing the connected socket again
 *            (EISCONN, printed as "again N err=...")
 *   shutwedge COUNT non-blocking connects to a closed port; once refused,
 *            shutdown(SHUT_RDWR) while the socket is still SS_CONNECTING,
 *            then a blocking connect() again: "wedge N tid=T shutdown=ERR
 *            connect2=ERR connect3=ERR sport=P"
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <poll.h>

/* See shutwedge above. */
static void shutwedge(int family, int port, int i)
{
	int fd = tcd_socket(family, 0), c1, sh, c2, c3, sport;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	fcntl(fd, F_SETFL, O_NONBLOCK);
	c1 = tcd_connect(fd, family, NULL, port);
	sport = tcd_port_of(fd);
	if (c1 == EINPROGRESS)
		poll(&pfd, 1, 5000);	/* refused: POLLOUT|POLLERR, SO_ERROR not read */
	sh = shutdown(fd, SHUT_RDWR) ? errno : 0;
	fcntl(fd, F_SETFL, 0);
	c2 = tcd_connect(fd, family, NULL, port);
	c3 = tcd_connect(fd, family, NULL, port);
	printf("wedge %d tid=%d connect1=%s shutdown=%s connect2=%s connect3=%s sport=%d\n", i,
	       tcd_gettid(), errname(c1), errname(sh), errname(c2), errname(c3), sport);
	close(fd);
}

int main(int argc, char **argv)
{
	int family = AF_INET, count = 1, i, port, lfd = -1;
	const char *mode;

	if (argc < 2) {
		fprintf(stderr, "usage: tcd-conn ok|refused|timeout|isconn|shutwedge [-6] [COUNT]\n");
		return 2;
	}
	mode = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else
			count = atoi(argv[i]);
	}
	if (!strcmp(mode, "ok") || !strcmp(mode, "isconn")) {
		lfd = tcd_listen(family, 0, 128, &port);
	} else if (!strcmp(mode, "refused") || !strcmp(mode, "shutwedge")) {
		lfd = tcd_listen(family, 0, 1, &port);
		close(lfd);	/* the port is now closed: RST */
		lfd = -1;
	} else if (!strcmp(mode, "timeout")) {
		lfd = tcd_full_listener(family, &port);
	} else {
		fprintf(stderr, "tcd-conn: unknown mode %s\n", mode);
		return 2;
	}
	for (i = 0; i < count && !strcmp(mode, "shutwedge"); i++)
		shutwedge(family, port, i);
	for (i = 0; i < count && strcmp(mode, "shutwedge"); i++) {
		int fd = tcd_socket(family, !strcmp(mode, "timeout") ? 1 : 0);
		double t0 = now_s();
		int err = tcd_connect(fd, family, NULL, port);

		printf("connect %d err=%s tid=%d seconds=%.2f\n", i, errname(err), tcd_gettid(),
		       now_s() - t0);
		if (!err && !strcmp(mode, "isconn"))
			printf("again %d err=%s\n", i, errname(tcd_connect(fd, family, NULL, port)));
		if (!err && lfd >= 0) {
			int afd = accept(lfd, NULL, NULL);

			if (afd >= 0)
				close(afd);
		}
		close(fd);
	}
	fflush(stdout);
	return 0;
}
