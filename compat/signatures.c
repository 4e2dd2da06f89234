// SPDX-License-Identifier: GPL-2.0
/*
 * Must compile: the probed functions whose arguments the handlers read by
 * position (tcd_arg()). A change here must stop the build, not mis-read
 * registers at run time.
 */
#include <net/sock.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/ipv6.h>
#include <net/addrconf.h>
#include <linux/inetdevice.h>

int (*tcd_p_disconnect)(struct sock *, int) = tcp_disconnect;
int (*tcd_p_rebuild)(struct sock *) = inet_sk_rebuild_header;
int (*tcd_p_shutdown)(struct socket *, int) = inet_shutdown;
void (*tcd_p_destruct)(struct sock *) = inet_sock_destruct;
int (*tcd_p_wait_connect)(struct sock *, long *) = sk_stream_wait_connect;
int (*tcd_p_wait_memory)(struct sock *, long *) = sk_stream_wait_memory;
int (*tcd_p_wait_data)(struct sock *, long *, const struct sk_buff *) = sk_wait_data;
/* What saddr.c calls to tell a lost source from a lost route. */
struct net_device *(*tcd_p_dev_find)(struct net *, __be32, bool) = __ip_dev_find;
#if IS_ENABLED(CONFIG_IPV6)
int (*tcd_p_rebuild6)(struct sock *) = inet6_sk_rebuild_header;
int (*tcd_p_chk_addr)(struct net *, const struct in6_addr *, const struct net_device *,
		      int) = ipv6_chk_addr;
#endif
/* failed.c: the end of a failed handshake, and the ICMP errors behind one. */
void (*tcd_p_done)(struct sock *) = tcp_done;
int (*tcd_p_v4_err)(struct sk_buff *, u32) = tcp_v4_err;
