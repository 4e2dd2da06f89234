// SPDX-License-Identifier: GPL-2.0
/* 6.15+: u32 hash_port0 after port_offset; arguments 0 and 1 unchanged. */
#include <net/inet_hashtables.h>

int tcd_probe(struct inet_timewait_death_row *dr, struct sock *sk);
int tcd_probe(struct inet_timewait_death_row *dr, struct sock *sk)
{
	return __inet_hash_connect(dr, sk, (u64)0, (u32)0, NULL);
}
