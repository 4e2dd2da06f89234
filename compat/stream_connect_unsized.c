// SPDX-License-Identifier: GPL-2.0
/* 6.19+: the address argument is a struct sockaddr_unsized *. */
#include <net/sock.h>
#include <net/inet_common.h>

int (*tcd_p_connect)(struct socket *, struct sockaddr_unsized *, int, int, int) =
	__inet_stream_connect;
