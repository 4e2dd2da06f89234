// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-hold [-6] [-p PORT] [-n COUNT] [-x CMD]: listen on loopback PORT
 * (default 5000; keep it outside ip_local_port_range), open COUNT connections
 * to it and keep them all open, then run "sh -c CMD" (if given) while they
 * are still held, then exit. With a small port range the last connects fail
 * with EADDRNOTAVAIL. One line per attempt: "connect N err=ERRNAME port=P".
 */
#include "tcdlib.h"

int main(int argc, char **argv)
{
	int family = AF_INET, port = 5000, count = 5, i, opt, lfd;
	const char *cmd = NULL;
	int *fds;

	while ((opt = getopt(argc, argv, "6p:n:x:")) != -1) {
		switch (opt) {
		case '6': family = AF_INET6; break;
		case 'p': port = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 'x': cmd = optarg; break;
		default:
			fprintf(stderr, "usage: tcd-hold [-6] [-p PORT] [-n COUNT] [-x CMD]\n");
			return 2;
		}
	}
	if (count < 1)
		count = 1;
	fds = calloc(count, sizeof(*fds));
	if (!fds)
		die("calloc");
	lfd = tcd_listen(family, port, count + 1, NULL);
	for (i = 0; i < count; i++) {
		int err;

		fds[i] = tcd_socket(family, 0);
		err = tcd_connect(fds[i], family, NULL, port);
		printf("connect %d err=%s port=%d\n", i, errname(err), err ? 0 : tcd_port_of(fds[i]));
	}
	fflush(stdout);
	if (cmd && system(cmd) == -1)
		die("system");
	for (i = 0; i < count; i++)
		close(fds[i]);
	close(lfd);
	free(fds);
	return 0;
}
