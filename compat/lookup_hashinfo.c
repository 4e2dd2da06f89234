// SPDX-License-Identifier: GPL-2.0
/* The established-hash lookups take the hashinfo: up to 6.17. */
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>

struct sock *tcd_probe(struct net *net, struct inet_hashinfo *h, const struct in6_addr *a);
struct sock *tcd_probe(struct net *net, struct inet_hashinfo *h, const struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (a)
		return __inet6_lookup_established(net, h, a, 0, a, 0, 0, 0);
#endif
	return __inet_lookup_established(net, h, 0, 0, 0, 0, 0, 0);
}

struct sock *tcd_probe_listener(struct net *net, struct inet_hashinfo *h, const struct in6_addr *a);
struct sock *tcd_probe_listener(struct net *net, struct inet_hashinfo *h, const struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (a)
		return inet6_lookup_listener(net, h, NULL, 0, a, 0, a, 0, 0, 0);
#endif
	return __inet_lookup_listener(net, h, NULL, 0, 0, 0, 0, 0, 0, 0);
}
