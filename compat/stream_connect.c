// SPDX-License-Identifier: GPL-2.0
/* __inet_stream_connect(sock, struct sockaddr *, len, flags, is_sendmsg): up to 6.18. */
#include <net/sock.h>
#include <net/inet_common.h>

int (*tcd_p_connect)(struct socket *, struct sockaddr *, int, int, int) =
	__inet_stream_connect;
