/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpconndiag: every kernel-version difference lives here.
 *
 * The TCD_HAVE_* macros come from Kbuild, which greps the target kernel's
 * headers: Debian backports fixes into old ABIs, so version numbers lie.
 */
#ifndef TCD_COMPAT_H
#define TCD_COMPAT_H

#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <net/sock.h>
#include <net/ip.h>
#include <net/inet_timewait_sock.h>
#include <net/netns/ipv4.h>
#include <net/dst.h>
#include <linux/ipv6.h>

/* The connect-race guard this kernel has (see README, "poisoned socket"). */
#if defined(TCD_HAVE_SK_DISCONNECTS)
#define TCD_GUARD "sk_disconnects"
#define TCD_GUARD_POISON_POSSIBLE 0
#elif defined(TCD_HAVE_SK_WAIT_PENDING)
#define TCD_GUARD "sk_wait_pending"
#define TCD_GUARD_POISON_POSSIBLE 1
#else
#define TCD_GUARD "none"
#define TCD_GUARD_POISON_POSSIBLE 0
#endif

/* Threads counted as blocked in sk_wait_event()/inet_wait_for_connect(). */
static inline int tcd_sk_wait_pending(const struct sock *sk)
{
#ifdef TCD_HAVE_SK_WAIT_PENDING
	return READ_ONCE(sk->sk_wait_pending);
#else
	return -1;
#endif
}

/* Sockets in TIME_WAIT in the death row's netns. */
static inline int tcd_tw_count(struct inet_timewait_death_row *dr)
{
#ifdef TCD_HAVE_TW_REFCOUNT
	/* tw_refcount starts at 1 (see tcp_sk_init()). */
	return refcount_read(&dr->tw_refcount) - 1;
#else
	return atomic_read(&dr->tw_count);
#endif
}

static inline struct inet_hashinfo *tcd_death_row_hashinfo(struct inet_timewait_death_row *dr)
{
	return dr->hashinfo;
}

/* net.ipv4.ip_dynaddr, or -1 when the kernel keeps it where we cannot read it. */
static inline int tcd_ip_dynaddr(const struct net *net)
{
#ifdef TCD_HAVE_NETNS_IP_DYNADDR
	return READ_ONCE(net->ipv4.sysctl_ip_dynaddr);
#else
	return -1;
#endif
}

static inline int tcd_tcp_syn_retries(const struct net *net)
{
	return READ_ONCE(net->ipv4.sysctl_tcp_syn_retries);
}

/*
 * net.ipv4.tcp_syn_linear_timeouts (6.5+): the first N SYN retransmits keep
 * the initial RTO and come on top of the SYN retries.
 */
static inline int tcd_tcp_syn_linear_timeouts(const struct net *net)
{
#ifdef TCD_HAVE_SYN_LINEAR_TIMEOUTS
	return READ_ONCE(net->ipv4.sysctl_tcp_syn_linear_timeouts);
#else
	return 0;
#endif
}

static inline int tcd_tcp_tw_reuse(const struct net *net)
{
	return READ_ONCE(net->ipv4.sysctl_tcp_tw_reuse);
}

/*
 * inet_sk_get_local_port_range(): the effective ephemeral range of @sk.
 * Returns true when the socket's own IP_LOCAL_PORT_RANGE narrowed it. Its
 * return type changed (void in 6.1 backports, bool later), so compare with
 * the netns range instead of trusting it.
 */
static inline bool tcd_inet_sk_get_local_port_range(const struct sock *sk, int *low, int *high)
{
	int nlow, nhigh;

	inet_get_local_port_range(sock_net(sk), &nlow, &nhigh);
#ifdef TCD_HAVE_SK_PORT_RANGE
	inet_sk_get_local_port_range(sk, low, high);
#else
	*low = nlow;
	*high = nhigh;
#endif
	return *low != nlow || *high != nhigh;
}

/* The route cookie inet6_sk_rebuild_header() checks; IPv4 uses 0. */
static inline u32 tcd_sk_dst_cookie(struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return inet6_sk(sk)->dst_cookie;
#endif
	return 0;
}

/* x86-64 calling convention: the probed function's n-th argument. */
static inline unsigned long tcd_arg(struct pt_regs *regs, unsigned int n)
{
	return regs_get_kernel_argument(regs, n);
}

#endif /* TCD_COMPAT_H */
