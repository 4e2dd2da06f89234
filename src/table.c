// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded per-socket table: every entry is preallocated at load, lookups
 * hash the socket address into a power-of-two bucket array (O(1)), and a
 * full table evicts its least recently updated entry.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/ktime.h>
#include <linux/sock_diag.h>
#include "tcd.h"
#include "tcd_compat.h"

DEFINE_RAW_SPINLOCK(tcd_lock);
u64 tcd_evictions;
u64 tcd_stale;
unsigned int tcd_used;


static struct tcd_entry *tcd_entries;
static struct hlist_head *tcd_buckets;
static unsigned int tcd_hash_bits;
static unsigned int tcd_nr_entries;
static LIST_HEAD(tcd_free);
static LIST_HEAD(tcd_lru);	/* head: least recently updated */

int tcd_table_init(unsigned int capacity)
{
	unsigned int i, nbuckets = roundup_pow_of_two(capacity);

	tcd_entries = vzalloc(array_size(capacity, sizeof(*tcd_entries)));
	tcd_buckets = vzalloc(array_size(nbuckets, sizeof(*tcd_buckets)));
	if (!tcd_entries || !tcd_buckets) {
		tcd_table_exit();
		return -ENOMEM;
	}
	tcd_hash_bits = ilog2(nbuckets);
	tcd_nr_entries = capacity;
	for (i = 0; i < nbuckets; i++)
		INIT_HLIST_HEAD(&tcd_buckets[i]);
	for (i = 0; i < capacity; i++) {
		list_add_tail(&tcd_entries[i].lru, &tcd_free);
		INIT_LIST_HEAD(&tcd_entries[i].ns_node);
	}
	return 0;
}

void tcd_table_exit(void)
{
	vfree(tcd_entries);
	vfree(tcd_buckets);
	tcd_entries = NULL;
	tcd_buckets = NULL;
	INIT_LIST_HEAD(&tcd_free);
	INIT_LIST_HEAD(&tcd_lru);
	tcd_used = 0;
}

static struct hlist_head *tcd_bucket(const void *key)
{
	return &tcd_buckets[hash_ptr(key, tcd_hash_bits)];
}

/*
 * Lock-free pre-check for hot paths: false means "certainly not tracked".
 * A stale true only costs one locked lookup.
 */
bool tcd_table_maybe_has(const struct sock *sk)
{
	if (!READ_ONCE(tcd_used))
		return false;
	return READ_ONCE(tcd_bucket(sk)->first) != NULL;
}

/*
 * @sk's socket cookie, made now if it has none. The kernel never hands a
 * cookie out twice (a 64-bit counter, per-CPU batches), so, unlike the
 * sock's address, it tells a row's socket from a later one the slab puts
 * there. sock_diag_save_cookie() is the exported way to have the kernel
 * make it: lock-free atomics under preempt_disable(), safe in any context,
 * and the value SO_COOKIE and sock_diag later report (made once, then
 * fixed), so making it early changes nothing for them.
 */
static u64 tcd_sk_cookie(struct sock *sk)
{
	u32 c[2];

	if (!atomic64_read(&sk->sk_cookie))
		sock_diag_save_cookie(sk, c);
	return atomic64_read(&sk->sk_cookie);
}

/*
 * A socket destruction the module did not see (a socket freed without
 * tcp_v4_destroy_sock(), or the test_drop_destroy hook) leaves the dead
 * socket's row in place. The next socket at that address must not inherit
 * its events, so a
 * row whose cookie is not the socket's is dropped here and counted as stale.
 * Every row's socket got its cookie when the row was made, so reading is
 * enough: another socket's is 0 (none made yet) or a different number.
 */
struct tcd_entry *tcd_lookup(const struct sock *sk)
{
	struct tcd_entry *e;

	lockdep_assert_held(&tcd_lock);
	hlist_for_each_entry(e, tcd_bucket(sk), hnode) {
		if (e->key != sk)
			continue;
		if (e->cookie != (u64)atomic64_read(&sk->sk_cookie)) {
			tcd_remove_entry(e);
			tcd_stale++;
			return NULL;
		}
		return e;
	}
	return NULL;
}

void tcd_remove_entry(struct tcd_entry *e)
{
	lockdep_assert_held(&tcd_lock);
	hlist_del(&e->hnode);
	list_move(&e->lru, &tcd_free);
	if (e->ns) {
		list_del_init(&e->ns_node);
		e->ns->nr_rows--;
		e->ns = NULL;
	}
	e->key = NULL;
	tcd_used--;
}

/* @e was updated: it becomes the most recently updated row (evicted last). */
void tcd_touch(struct tcd_entry *e)
{
	lockdep_assert_held(&tcd_lock);
	e->updated_ns = ktime_get_ns();
	list_move_tail(&e->lru, &tcd_lru);
}

/* The caller is inside a probed call on @sk, so @sk is alive here. */
struct tcd_entry *tcd_get_or_create(struct sock *sk)
{
	struct tcd_entry *e = tcd_lookup(sk);
	struct net *net = sock_net(sk);
	struct tcd_net *tn;
	u64 now;

	if (e) {
		tcd_touch(e);
		return e;
	}
	now = ktime_get_ns();
	if (list_empty(&tcd_free)) {
		/* Full: recycle the least recently updated socket's row. */
		e = list_first_entry(&tcd_lru, struct tcd_entry, lru);
		tcd_remove_entry(e);
		tcd_evictions++;
	}
	e = list_first_entry(&tcd_free, struct tcd_entry, lru);
	list_del(&e->lru);
	memset(e, 0, sizeof(*e));
	e->key = sk;
	e->cookie = tcd_sk_cookie(sk);
	INIT_LIST_HEAD(&e->ns_node);
	e->netns = tcd_netns_id(net);
	/* A namespace past its exit hook keeps its rows off the list (LRU only). */
	tn = tcd_net(net);
	if (tn && !tn->exiting) {
		list_add_tail(&e->ns_node, &tn->rows);
		tn->nr_rows++;
		e->ns = tn;
	}
	e->uid = tcd_sk_uid(sk);
	e->cgid = tcd_sk_cgroup_id(sk);
	e->family = sk->sk_family;
	e->state = READ_ONCE(sk->sk_state);
	e->created_ns = now;
	e->updated_ns = now;
	tcd_endpoints_from_sk(sk, &e->src, &e->dst);
	hlist_add_head(&e->hnode, tcd_bucket(sk));
	list_add_tail(&e->lru, &tcd_lru);
	tcd_used++;
	return e;
}

/*
 * Copy slot @idx out under the lock so /proc formatting never holds it:
 * a dump stalls the probes for one entry copy at a time, not the whole file.
 */
bool tcd_table_copy_at(unsigned int idx, struct tcd_entry *out)
{
	unsigned long flags;
	bool used = false;

	if (idx >= tcd_nr_entries)
		return false;
	raw_spin_lock_irqsave(&tcd_lock, flags);
	if (tcd_entries[idx].key) {
		*out = tcd_entries[idx];
		used = true;
	}
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	return used;
}

/*
 * Forget @net's rows: its own list, so the cost is its rows, not the
 * table's capacity (a namespace that never had a row costs one lock).
 * Batches keep the lock, which probes spin on with IRQs off, short; a
 * "clear" stops after the rows it found, so new ones cannot keep it
 * going. @exiting: @net's exit hook, after which no row joins the list.
 */
#define TCD_CLEAR_BATCH 64

void tcd_table_clear_netns(struct net *net, bool exiting)
{
	struct tcd_net *tn = tcd_net(net);
	unsigned int n, todo = UINT_MAX;
	unsigned long flags;
	bool more;

	if (!tn)
		return;
	do {
		raw_spin_lock_irqsave(&tcd_lock, flags);
		if (exiting)
			tn->exiting = true;
		if (todo == UINT_MAX)
			todo = tn->nr_rows;
		for (n = 0; n < TCD_CLEAR_BATCH && todo && !list_empty(&tn->rows); n++, todo--)
			tcd_remove_entry(list_first_entry(&tn->rows, struct tcd_entry, ns_node));
		more = todo && !list_empty(&tn->rows);
		raw_spin_unlock_irqrestore(&tcd_lock, flags);
		if (more)
			cond_resched();
	} while (more);
}
