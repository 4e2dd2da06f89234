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
 */
#include "tcdlib.h"

int main(int argc, char **argv)
{
	int family = AF_INET, count = 1, i, port, lfd = -1;
	const char *mode;

	if (argc < 2) {
		fprintf(stderr, "usage: tcd-conn ok|refused|timeout|isconn [-6] [COUNT]\n");
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
	} else if (!strcmp(mode, "refused")) {
		lfd = tcd_listen(family, 0, 1, &port);
		close(lfd);	/* the port is now closed: RST */
		lfd = -1;
	} else if (!strcmp(mode, "timeout")) {
		lfd = tcd_full_listener(family, &port);
	} else {
		fprintf(stderr, "tcd-conn: unknown mode %s\n", mode);
		return 2;
	}
	for (i = 0; i < count; i++) {
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
