// SPDX-License-Identifier: GPL-2.0
/*
 * tcpconndiag: tells an operator why a TCP connect() went wrong.
 *
 * Module parameters, probe registration and counters. The diagnoses live in
 * poison.c (poisoned socket), eaddr.c (EADDRNOTAVAIL) and saddr.c
 * (source-address stall).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_CAPACITY_MAX (1U << 18)
#define TCD_MAXACTIVE_MAX 65536U

unsigned int tcd_capacity = 1024;
module_param_named(capacity, tcd_capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "Sockets tracked at once, preallocated at load (16..262144, default 1024)");

/*
 * A blocking connect() holds a kretprobe instance for its whole SYN-retry
 * period (127 s by default): size for the number of connects that may be
 * blocked at once, or their returns are missed (nmissed in /proc).
 */
unsigned int tcd_maxactive = 2048;
module_param_named(maxactive, tcd_maxactive, uint, 0444);
MODULE_PARM_DESC(maxactive, "Concurrent calls tracked in blocking functions (__inet_stream_connect, sk_stream_wait_connect), 1..65536, default 2048");

/* The other probed functions never sleep for long. */
unsigned int tcd_maxactive_short = 256;
module_param_named(maxactive_short, tcd_maxactive_short, uint, 0444);
MODULE_PARM_DESC(maxactive_short, "Concurrent calls tracked in short functions (tcp_disconnect, __inet_hash_connect, *_sk_rebuild_header, inet_shutdown) and in send()/recv() waits (sk_stream_wait_memory, sk_wait_data), 1..65536, default 256");

atomic64_t tcd_counters[TCD_C_NR];
const char *const tcd_counter_names[TCD_C_NR] = {
	[TCD_C_CONNECT_FAILED] = "connect-failed",
	[TCD_C_ETIMEDOUT] = "connect-etimedout",
	[TCD_C_ECONNREFUSED] = "connect-econnrefused",
	[TCD_C_EINVAL] = "connect-einval",
	[TCD_C_EADDRNOTAVAIL] = "connect-eaddrnotavail",
	[TCD_C_ENETUNREACH] = "connect-enetunreach",
	[TCD_C_OTHER_ERR] = "connect-other-error",
	[TCD_C_DISCONNECT_EBUSY] = "disconnect-ebusy",
	[TCD_C_SOCKET_POISONED] = "socket-poisoned",
	[TCD_C_CONNECT_ON_POISONED] = "connect-on-poisoned",
	[TCD_C_SHUTDOWN_EBUSY] = "shutdown-ebusy",
	[TCD_C_SENDER_EPIPE] = "sender-epipe",
	[TCD_C_EADDR_EPHEMERAL] = "eaddrnotavail-ephemeral-exhausted",
	[TCD_C_EADDR_BOUND] = "eaddrnotavail-bound-port-in-use",
	[TCD_C_SADDR_LOST] = "saddr-lost",
	[TCD_C_ROUTE_LOST] = "route-lost",
	[TCD_C_STALL_ENDED] = "stall-ended",
	[TCD_C_ALERTS] = "alerts-printed",
	[TCD_C_ALERTS_SUPPRESSED] = "alerts-suppressed",
	[TCD_C_WAITERS_UNRECORDED] = "waiters-unrecorded",
	[TCD_C_ALERTS_TRUNCATED] = "alerts-truncated",
};

DEFINE_PER_CPU(unsigned long[TCD_P_NR], tcd_hits);

struct tcd_kretprobe {
	enum tcd_probe_id id;
	const char *symbol;
	kretprobe_handler_t entry;
	kretprobe_handler_t ret;
	size_t (*data_size)(void);
	bool blocking;
	struct kretprobe rp;
	bool registered;
};

static size_t tcd_ptr_size(void)
{
	return sizeof(void *);
}

static struct tcd_kretprobe tcd_kretprobes[] = {
	{ TCD_P_CONNECT, "__inet_stream_connect", tcd_connect_entry, tcd_connect_ret,
	  tcd_connect_data_size, true },
	{ TCD_P_DISCONNECT, "tcp_disconnect", tcd_disconnect_entry, tcd_disconnect_ret,
	  tcd_sk_data_size, false },
	{ TCD_P_HASH_CONNECT, "__inet_hash_connect", tcd_hash_connect_entry,
	  tcd_hash_connect_ret, tcd_hash_connect_data_size, false },
	{ TCD_P_REBUILD, "inet_sk_rebuild_header", tcd_rebuild_entry, tcd_rebuild_ret,
	  tcd_ptr_size, false },
	{ TCD_P_REBUILD6, "inet6_sk_rebuild_header", tcd_rebuild6_entry, tcd_rebuild_ret,
	  tcd_ptr_size, false },
	{ TCD_P_WAIT_CONNECT, "sk_stream_wait_connect", tcd_wait_connect_entry,
	  tcd_wait_ret, tcd_wait_data_size, true },
	{ TCD_P_SHUTDOWN, "inet_shutdown", tcd_shutdown_entry, tcd_shutdown_ret,
	  tcd_shutdown_data_size, false },
	/*
	 * send() and recv() waits only name blocked threads: a smaller pool,
	 * so a server with many idle readers costs no more memory; waits
	 * beyond it go unnamed and nmissed counts them.
	 */
	{ TCD_P_WAIT_MEMORY, "sk_stream_wait_memory", tcd_wait_memory_entry, tcd_wait_ret,
	  tcd_wait_data_size, false },
	{ TCD_P_WAIT_DATA, "sk_wait_data", tcd_wait_data_entry, tcd_wait_ret,
	  tcd_wait_data_size, false },
};

/* Socket destruction only needs an entry probe. */
static struct kprobe tcd_destruct_kp = {
	.symbol_name = "inet_sock_destruct",
	.pre_handler = tcd_destruct_pre,
};

static bool tcd_destruct_registered;

int tcd_probe_count(void)
{
	return ARRAY_SIZE(tcd_kretprobes) + 1;
}

static unsigned long tcd_sum_hits(enum tcd_probe_id id)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(tcd_hits, cpu)[id];
	return sum;
}

void tcd_probe_stat(int idx, struct tcd_probe_stat *st)
{
	if (idx < ARRAY_SIZE(tcd_kretprobes)) {
		struct tcd_kretprobe *p = &tcd_kretprobes[idx];

		st->symbol = p->symbol;
		st->hits = tcd_sum_hits(p->id);
		/* Missed entries (kprobe busy) plus returns with no free instance. */
		st->nmissed = p->rp.nmissed + p->rp.kp.nmissed;
		st->maxactive = p->rp.maxactive;
		st->registered = p->registered;
		return;
	}
	st->symbol = tcd_destruct_kp.symbol_name;
	st->hits = tcd_sum_hits(TCD_P_DESTRUCT);
	st->nmissed = tcd_destruct_kp.nmissed;
	st->maxactive = 0;
	st->registered = tcd_destruct_registered;
}

/* Preallocated kretprobe instances (before slab rounding). */
size_t tcd_probe_instance_bytes(void)
{
	size_t sum = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tcd_kretprobes); i++)
		sum += (size_t)tcd_kretprobes[i].rp.maxactive *
		       (sizeof(struct kretprobe_instance) + tcd_kretprobes[i].rp.data_size);
	return sum;
}

void tcd_reset_probe_hits(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&tcd_hits, cpu), 0, sizeof(tcd_hits));
}

static void tcd_unregister_all(void)
{
	int i;

	if (tcd_destruct_registered)
		unregister_kprobe(&tcd_destruct_kp);
	tcd_destruct_registered = false;
	for (i = ARRAY_SIZE(tcd_kretprobes) - 1; i >= 0; i--) {
		if (tcd_kretprobes[i].registered)
			unregister_kretprobe(&tcd_kretprobes[i].rp);
		tcd_kretprobes[i].registered = false;
	}
}

static int tcd_register_all(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(tcd_kretprobes); i++) {
		struct tcd_kretprobe *p = &tcd_kretprobes[i];

		memset(&p->rp, 0, sizeof(p->rp));
		p->rp.kp.symbol_name = p->symbol;
		p->rp.entry_handler = p->entry;
		p->rp.handler = p->ret;
		p->rp.data_size = p->data_size();
		p->rp.maxactive = p->blocking ? tcd_maxactive : tcd_maxactive_short;
		err = register_kretprobe(&p->rp);
		if (err) {
			pr_err("cannot probe %s: error %d (%s); not loaded\n", p->symbol, err,
			       tcd_errname(err));
			goto fail;
		}
		p->registered = true;
	}
	memset(&tcd_destruct_kp, 0, sizeof(tcd_destruct_kp));
	tcd_destruct_kp.symbol_name = "inet_sock_destruct";
	tcd_destruct_kp.pre_handler = tcd_destruct_pre;
	err = register_kprobe(&tcd_destruct_kp);
	if (err) {
		pr_err("cannot probe %s: error %d (%s); not loaded\n",
		       tcd_destruct_kp.symbol_name, err, tcd_errname(err));
		goto fail;
	}
	tcd_destruct_registered = true;
	return 0;
fail:
	tcd_unregister_all();
	return err;
}

/*
 * Rows and destinations are keyed by the netns inode number, which the
 * kernel reuses: forget a namespace's entries when it exits, or the next
 * namespace to get its number would see them.
 */
static void __net_exit tcd_net_exit(struct net *net)
{
	tcd_table_clear_netns(net->ns.inum);
	tcd_dests_clear_netns(net->ns.inum);
}

static struct pernet_operations tcd_net_ops = {
	.exit = tcd_net_exit,
};

static int tcd_check_params(void)
{
	if (tcd_capacity < 16 || tcd_capacity > TCD_CAPACITY_MAX) {
		pr_err("capacity=%u out of range 16..%u; not loaded\n", tcd_capacity,
		       TCD_CAPACITY_MAX);
		return -EINVAL;
	}
	if (!tcd_maxactive || tcd_maxactive > TCD_MAXACTIVE_MAX) {
		pr_err("maxactive=%u out of range 1..%u; not loaded\n", tcd_maxactive,
		       TCD_MAXACTIVE_MAX);
		return -EINVAL;
	}
	if (!tcd_maxactive_short || tcd_maxactive_short > TCD_MAXACTIVE_MAX) {
		pr_err("maxactive_short=%u out of range 1..%u; not loaded\n",
		       tcd_maxactive_short, TCD_MAXACTIVE_MAX);
		return -EINVAL;
	}
	return 0;
}

static int __init tcd_init(void)
{
	int err = tcd_check_params();

	if (err)
		return err;
	err = tcd_table_init(tcd_capacity);
	if (err) {
		pr_err("cannot allocate a table of %u sockets; not loaded\n", tcd_capacity);
		return err;
	}
	err = tcd_waiters_init(tcd_maxactive);
	if (err) {
		pr_err("cannot allocate the waiter registry; not loaded\n");
		goto out_table;
	}
	err = register_pernet_subsys(&tcd_net_ops);
	if (err) {
		pr_err("cannot register netns hooks: error %d; not loaded\n", err);
		goto out_waiters;
	}
	err = tcd_proc_init();
	if (err) {
		pr_err("cannot create /proc/%s: error %d; not loaded\n", TCD_NAME, err);
		goto out_pernet;
	}
	err = tcd_register_all();
	if (err)
		goto out_proc;
	pr_info("version %s loaded: guard=%s capacity=%u maxactive=%u maxactive_short=%u\n",
		TCD_VERSION, TCD_GUARD, tcd_capacity, tcd_maxactive, tcd_maxactive_short);
	return 0;
out_proc:
	tcd_proc_exit();
out_pernet:
	unregister_pernet_subsys(&tcd_net_ops);
out_waiters:
	tcd_waiters_exit();
out_table:
	tcd_table_exit();
	return err;
}

static void __exit tcd_exit(void)
{
	/* Unregistering waits for running handlers, so the table is idle after it. */
	tcd_unregister_all();
	tcd_proc_exit();
	unregister_pernet_subsys(&tcd_net_ops);
	tcd_waiters_exit();
	tcd_table_exit();
	pr_info("unloaded\n");
}

module_init(tcd_init);
module_exit(tcd_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(TCD_VERSION);
MODULE_AUTHOR("tcpconndiag developers");
MODULE_DESCRIPTION("Explains failed TCP connect()s: poisoned sockets, EADDRNOTAVAIL, source-address stalls");
