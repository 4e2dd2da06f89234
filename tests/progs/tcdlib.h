/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest test programs (header-only: each program is
 * one static binary built from one .c file).
 */
#ifndef TCDLIB_H
#define TCDLIB_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(2);
}

static inline pid_t tcd_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Symbolic errno, the same spelling the module prints. */
static inline const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EPIPE: return "EPIPE";
	case EBUSY: return "EBUSY";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOTCONN: return "ENOTCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOENT: return "ENOENT";
	default: return "E?";
	}
}

/* Fill @ss with the loopback address of @family and @port; returns its length. */
static inline socklen_t tcd_addr(struct sockaddr_storage *ss, int family, const char *ip,
				 int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip ? ip : "::1", &s6->sin6_addr) != 1)
			die("inet_pton");
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	if (inet_pton(AF_INET, ip ? ip : "127.0.0.1", &s4->sin_addr) != 1)
		die("inet_pton");
	return sizeof(*s4);
}

static inline int tcd_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						 ((struct sockaddr_in *)&ss)->sin_port);
}

/* A listener on loopback (port 0: any); returns the fd, *port gets the port. */
static inline int tcd_listen(int family, int port, int backlog, int *portp)
{
	struct sockaddr_storage ss;
	socklen_t len = tcd_addr(&ss, family, NULL, port);
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog))
		die("bind/listen");
	if (portp)
		*portp = tcd_port_of(fd);
	return fd;
}

/*
 * A listener that drops every further SYN: backlog 0 with one connection
 * already queued and never accepted. Returns the listener; *port its port.
 */
static inline int tcd_full_listener(int family, int *portp)
{
	struct sockaddr_storage ss;
	int lfd = tcd_listen(family, 0, 0, portp);
	socklen_t len = tcd_addr(&ss, family, NULL, *portp);
	int c = socket(family, SOCK_STREAM, 0);

	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (c < 0 || connect(c, (struct sockaddr *)&ss, len))
		die("filling the listener");
	/*
	 * c stays open and unaccepted on purpose. Its last ACK may still be
	 * in flight (softirq): the queue is full once the listener is readable.
	 */
	if (poll(&pfd, 1, 5000) != 1)
		die("the filler connection never reached the accept queue");
	return lfd;
}

/* A TCP socket of @family with TCP_SYNCNT @syncnt (0: leave default). */
static inline int tcd_socket(int family, int syncnt)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (syncnt && setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt)))
		die("TCP_SYNCNT");
	return fd;
}

/* connect() returning 0 or errno. */
static inline int tcd_connect(int fd, int family, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = tcd_addr(&ss, family, ip, port);

	return connect(fd, (struct sockaddr *)&ss, len) ? errno : 0;
}

#endif /* TCDLIB_H */
