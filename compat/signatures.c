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
#include <trace/events/sock.h>
#include <trace/events/tcp.h>

int (*tcd_p_retransmit)(struct sock *, struct sk_buff *, int) = tcp_retransmit_skb;
void (*tcd_p_loss_probe)(struct sock *) = tcp_send_loss_probe;
int (*tcd_p_shutdown)(struct socket *, int) = inet_shutdown;
int (*tcd_p_wait_connect)(struct sock *, long *) = sk_stream_wait_connect;
int (*tcd_p_wait_memory)(struct sock *, long *) = sk_stream_wait_memory;
int (*tcd_p_wait_data)(struct sock *, long *, const struct sk_buff *) = sk_wait_data;
/* What saddr.c calls to tell a lost source from a lost route. */
struct net_device *(*tcd_p_dev_find)(struct net *, __be32, bool) = __ip_dev_find;
#if IS_ENABLED(CONFIG_IPV6)
int (*tcd_p_chk_addr)(struct net *, const struct in6_addr *, const struct net_device *,
		      int) = ipv6_chk_addr;
#endif
/* failed.c: the ICMP errors behind a failed handshake. */
int (*tcd_p_v4_err)(struct sk_buff *, u32) = tcp_v4_err;

/*
 * The tracepoints' TP_PROTO: tcp_destroy_sock (e8fce23946b7 "tcp: add tracepoint
 * trace_tcp_destroy_sock", v4.15) and inet_sock_set_state (563e0bb0dc74
 * "net: tracepoint: replace tcp_set_state tracepoint with
 * inet_sock_set_state tracepoint", v4.16). The module registers its probes
 * by name; a changed prototype must stop the build here.
 */
static void tcd_tp_state(void *data, const struct sock *sk, const int oldstate,
			 const int newstate)
{
}

static void tcd_tp_destroy(void *data, struct sock *sk)
{
}

int tcd_p_tracepoints(void);
int tcd_p_tracepoints(void)
{
	return register_trace_inet_sock_set_state(tcd_tp_state, NULL) +
	       register_trace_tcp_destroy_sock(tcd_tp_destroy, NULL);
}
