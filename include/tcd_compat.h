/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpconndiag: every kernel-version difference lives here.
 *
 * The TCD_HAVE_* macros come from Kbuild, which greps the target kernel's
 * headers or compiles a probe (a compat/ file) against them: Debian backports
 * fixes into old ABIs, so version numbers lie. Each one names the upstream
 * commit that made the difference:
 *
 * TCD_HAVE_SK_WAIT_PENDING	4faeee0cf8a5 "tcp: deny tcp_disconnect() when threads
 *				are waiting" (v6.4; 5.4.246+, 5.10.183+, 5.15.116+, 6.1.33+)
 * TCD_HAVE_SK_DISCONNECTS	419ce133ab92 "tcp: allow again tcp_disconnect() when
 *				threads are waiting" (v6.6; 6.1.60+)
 * TCD_HAVE_TW_REFCOUNT		fbb8295248e1 "tcp: allocate tcp_death_row outside of
 *				struct netns_ipv4" (v5.18)
 * TCD_HAVE_NETNS_IP_DYNADDR	net->ipv4.sysctl_ip_dynaddr (per netns since 4.x;
 *				e49e4aff7ec1 "ipv4: Fix data-races around
 *				sysctl_ip_dynaddr" made it a READ_ONCE u8)
 * TCD_HAVE_SK_PORT_RANGE	91d0b78c5177 "inet: Add IP_LOCAL_PORT_RANGE socket
 *				option" (v6.3; 6.1.31+)
 * TCD_HAVE_SK_PORT_RANGE_STEP1	207184853dbd "tcp/dccp: change source port selection
 *				at connect() time" (v6.8): a socket with the option
 *				set scans every port, not by parity. Detected from
 *				its prerequisite 41db7626b732 "inet: returns a bool
 *				from inet_sk_get_local_port_range()" (same series)
 * TCD_HAVE_SYN_LINEAR_TIMEOUTS	ccce324dabfe "tcp: make the first N SYN RTO backoffs
 *				linear" (v6.5)
 * TCD_HAVE_TCP_USEC_TS		614e8316aa4c "tcp: add support for usec resolution in
 *				TCP TS values" (v6.7)
 * TCD_HAVE_ICSK_RTO_MAX	54a378f43425 "tcp: add the ability to control max RTO"
 *				(v6.15)
 * TCD_HAVE_LOOKUP_NO_HASHINFO	cb16f4b6c73d "tcp: Don't pass hashinfo to socket lookup
 *				helpers." (v6.18): compile probe, established and
 *				listener lookups
 * TCD_HAVE_KERNFS_RCU		633488947ef6 "kernfs: Use RCU to access kernfs_node::parent."
 *				and 741c10b096bc "kernfs: Use RCU to access
 *				kernfs_node::name." (v6.15): the cgroup path walk
 * TCD_HAVE_SOCKADDR_UNSIZED	85cb0757d7e1 "net: Convert proto_ops connect() callbacks
 *				to use sockaddr_unsized" (v6.19): compile probe
 * TCD_HAVE_NET_COOKIE		3d368ab87cf6 "net: initialize net->net_cookie at netns
 *				setup" (v5.12): a u64 set once per namespace from a
 *				counter never reset. Before it (5.10) an atomic64_t
 *				made on first use by __net_gen_cookie(), which is not
 *				exported: the module numbers namespaces itself
 * TCD_HAVE_CGROUP_BPF_ATYPE	6fc88c354f3a "bpf: Migrate cgroup_bpf to internal
 *				cgroup_bpf_attach_type enum" (v5.15): the index of
 *				cgroup->bpf.effective[] is CGROUP_INET4_CONNECT, not
 *				the UAPI BPF_CGROUP_INET4_CONNECT
 *
 * compat/signatures.c must compile: it pins the argument lists of the
 * other probed functions, which the handlers read by position. IPv6 became
 * built-in only in 7.1 (309b905deee5); IS_ENABLED(CONFIG_IPV6) covers both.
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
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include <linux/bpf.h>
#include <linux/bpf-cgroup.h>
#include "tcd.h"

#ifdef TCD_HAVE_CGROUP_BPF_ATYPE
#define TCD_CGROUP_INET4_CONNECT CGROUP_INET4_CONNECT
#define TCD_CGROUP_INET6_CONNECT CGROUP_INET6_CONNECT
#else
#define TCD_CGROUP_INET4_CONNECT BPF_CGROUP_INET4_CONNECT
#define TCD_CGROUP_INET6_CONNECT BPF_CGROUP_INET6_CONNECT
#endif

/*
 * The key of a network namespace's rows and destinations: unlike its inode
 * number, which a later namespace may get, never handed out twice.
 */
static inline u64 tcd_netns_id(const struct net *net)
{
#ifdef TCD_HAVE_NET_COOKIE
	return net->net_cookie;
#else
	const struct tcd_net *tn = tcd_net(net);

	return tn ? tn->id : 0;
#endif
}

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

/* net.ipv4.ip_dynaddr, or -1 when the kernel keeps it where we cannot read it. */
static inline int tcd_ip_dynaddr(const struct net *net)
{
#ifdef TCD_HAVE_NETNS_IP_DYNADDR
	return READ_ONCE(net->ipv4.sysctl_ip_dynaddr);
#else
	return -1;
#endif
}

/*
 * The established-hash lookups: holder of a 4-tuple, with a reference
 * (full or timewait socket), or NULL.
 */
static inline struct sock *tcd_lookup_established4(struct net *net,
						   struct inet_hashinfo *hinfo,
						   __be32 saddr, __be16 sport,
						   __be32 daddr, u16 hnum, int dif, int sdif)
{
#ifdef TCD_HAVE_LOOKUP_NO_HASHINFO
	return __inet_lookup_established(net, saddr, sport, daddr, hnum, dif, sdif);
#else
	return __inet_lookup_established(net, hinfo, saddr, sport, daddr, hnum, dif, sdif);
#endif
}

#if IS_ENABLED(CONFIG_IPV6)
static inline struct sock *tcd_lookup_established6(struct net *net,
						   struct inet_hashinfo *hinfo,
						   const struct in6_addr *saddr, __be16 sport,
						   const struct in6_addr *daddr, u16 hnum,
						   int dif, int sdif)
{
#ifdef TCD_HAVE_LOOKUP_NO_HASHINFO
	return __inet6_lookup_established(net, saddr, sport, daddr, hnum, dif, sdif);
#else
	return __inet6_lookup_established(net, hinfo, saddr, sport, daddr, hnum, dif, sdif);
#endif
}
#endif

/* The established hash of @net (per netns since 6.1; the global one before). */
static inline struct inet_hashinfo *tcd_net_hashinfo(struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/*
 * The listener a SYN to daddr:hnum would find, or NULL; no reference
 * (listeners are RCU-freed): call under rcu_read_lock(). Listeners live in
 * the global table, which every netns's hashinfo shares.
 */
static inline struct sock *tcd_lookup_listener4(struct net *net, __be32 saddr, __be16 sport,
						__be32 daddr, u16 hnum, int dif)
{
#ifdef TCD_HAVE_LOOKUP_NO_HASHINFO
	return __inet_lookup_listener(net, NULL, 0, saddr, sport, daddr, hnum, dif, 0);
#else
	return __inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo, NULL, 0, saddr,
				      sport, daddr, hnum, dif, 0);
#endif
}

#if IS_ENABLED(CONFIG_IPV6)
static inline struct sock *tcd_lookup_listener6(struct net *net, const struct in6_addr *saddr,
						__be16 sport, const struct in6_addr *daddr,
						u16 hnum, int dif)
{
#ifdef TCD_HAVE_LOOKUP_NO_HASHINFO
	return inet6_lookup_listener(net, NULL, 0, saddr, sport, daddr, hnum, dif, 0);
#else
	return inet6_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo, NULL, 0, saddr,
				     sport, daddr, hnum, dif, 0);
#endif
}
#endif

/*
 * Milliseconds since tp->retrans_stamp. It is stamped in ms of
 * tcp_clock_ns() (ktime_get_ns()), or, on 6.7+ routes with the
 * tcp_usec_ts feature, in us of tp->tcp_mstamp. 0 when unstamped.
 */
static inline u32 tcd_retrans_elapsed_ms(const struct sock *sk, u64 now_ns)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 stamp = READ_ONCE(tp->retrans_stamp);

	if (!stamp)
		return 0;
#ifdef TCD_HAVE_TCP_USEC_TS
	if (tp->tcp_usec_ts)
		return ((u32)div_u64(now_ns, NSEC_PER_USEC) - stamp) / USEC_PER_MSEC;
#endif
	return (u32)div_u64(now_ns, NSEC_PER_MSEC) - stamp;
}

/* The RTO ceiling of @sk in jiffies: per socket since 6.15. */
static inline unsigned int tcd_rto_max(const struct sock *sk)
{
#ifdef TCD_HAVE_ICSK_RTO_MAX
	return READ_ONCE(inet_csk(sk)->icsk_rto_max);
#else
	return TCP_RTO_MAX;
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
 * The ephemeral range __inet_hash_connect() scanned for @sk, and how: the
 * return value is its step. 2: by parity, so an odd range leaves one port
 * out. 1: every port, on kernels where a socket with IP_LOCAL_PORT_RANGE set
 * at all (narrowing or not) scans that way. *narrowed: the socket's own
 * range moved a bound (range_from=socket); the kernel's bool says "option
 * set", not "narrowed", so compare with the netns range instead.
 */
static inline int tcd_local_port_range(const struct sock *sk, int *low, int *high,
				       bool *narrowed)
{
	int nlow, nhigh, step = 2;

	inet_get_local_port_range(sock_net(sk), &nlow, &nhigh);
#if defined(TCD_HAVE_SK_PORT_RANGE_STEP1)
	if (inet_sk_get_local_port_range(sk, low, high))
		step = 1;
#elif defined(TCD_HAVE_SK_PORT_RANGE)
	inet_sk_get_local_port_range(sk, low, high);
#else
	*low = nlow;
	*high = nhigh;
#endif
	*narrowed = *low != nlow || *high != nhigh;
	return step;
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
