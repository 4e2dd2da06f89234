// SPDX-License-Identifier: GPL-2.0
/* 6.18+: the lookups find the hashinfo from the netns. */
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>

struct sock *tcd_probe(struct net *net, const struct in6_addr *a);
struct sock *tcd_probe(struct net *net, const struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (a)
		return __inet6_lookup_established(net, a, 0, a, 0, 0, 0);
#endif
	return __inet_lookup_established(net, 0, 0, 0, 0, 0, 0);
}

struct sock *tcd_probe_listener(struct net *net, const struct in6_addr *a);
struct sock *tcd_probe_listener(struct net *net, const struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (a)
		return inet6_lookup_listener(net, NULL, 0, a, 0, a, 0, 0, 0);
#endif
	return __inet_lookup_listener(net, NULL, 0, 0, 0, 0, 0, 0, 0);
}
