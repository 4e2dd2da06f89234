// SPDX-License-Identifier: GPL-2.0
/*
 * tcp-loop [-6]: connect to a listener on the loopback address and exchange one
 * message. Proves the guest's loopback TCP path and the static test-program
 * build of the harness. Exit 0 on success.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "tcp-loop: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	int v6 = argc > 1 && !strcmp(argv[1], "-6");
	struct sockaddr_storage ss = { 0 };
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	char buf[8] = { 0 };
	int lfd, cfd, afd;

	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}

	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (lfd < 0)
		return fail("socket");
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1))
		return fail("bind/listen");
	if (getsockname(lfd, (struct sockaddr *)&ss, &len))
		return fail("getsockname");

	cfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (cfd < 0)
		return fail("socket");
	if (connect(cfd, (struct sockaddr *)&ss, len))
		return fail("connect");
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		return fail("accept");
	if (send(cfd, "ping", 4, MSG_NOSIGNAL) != 4)
		return fail("send");
	if (recv(afd, buf, 4, MSG_WAITALL) != 4 || strcmp(buf, "ping")) {
		fprintf(stderr, "tcp-loop: wrong data '%s'\n", buf);
		return 1;
	}
	printf("tcp-loop: %s port %d ok\n", v6 ? "::1" : "127.0.0.1",
	       ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return 0;
}
