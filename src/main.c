// SPDX-License-Identifier: GPL-2.0
/*
 * tcpconndiag: tells an operator why a TCP connect() went wrong.
 *
 * Module parameters, counters, load and unload. connect.c is the hub of
 * the connect() return; the diagnoses live in poison.c (poisoned socket),
 * eaddr.c (EADDRNOTAVAIL), saddr.c (source-address stall) and failed.c
 * (why any other connect failed); probes.c registers their probes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
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
unsigned int tcd_maxactive = 1024;
/*
 * A test hook (tests/guest/55-stale.t): while set, socket destructions are
 * ignored, as a lost probe hit would be, so that the stale-row defence
 * (tcd_lookup()'s cookie check) can be shown to work. Root only.
 */
bool tcd_test_drop_destroy;
module_param_named(test_drop_destroy, tcd_test_drop_destroy, bool, 0600);
MODULE_PARM_DESC(test_drop_destroy, "Testing only: ignore socket destructions while set (default N)");

module_param_named(maxactive, tcd_maxactive, uint, 0444);
MODULE_PARM_DESC(maxactive, "Concurrent calls tracked in blocking functions (__inet_stream_connect, sk_stream_wait_connect), 1..65536, default 1024");

/* The other probed functions never sleep for long. */
unsigned int tcd_maxactive_short = 256;
module_param_named(maxactive_short, tcd_maxactive_short, uint, 0444);
MODULE_PARM_DESC(maxactive_short, "Concurrent calls tracked in short functions (tcp_retransmit_skb, tcp_send_loss_probe, inet_shutdown) and in send()/recv() waits (sk_stream_wait_memory, sk_wait_data), 1..65536, default 256");

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
	[TCD_C_CAUSE_FIRST + TCD_F_NO_LISTENER] = "cause-no-listener",
	[TCD_C_CAUSE_FIRST + TCD_F_PEER_RESET] = "cause-peer-reset",
	[TCD_C_CAUSE_FIRST + TCD_F_BACKLOG_FULL] = "cause-listener-backlog-full",
	[TCD_C_CAUSE_FIRST + TCD_F_NO_SYNACK] = "cause-no-synack",
	[TCD_C_CAUSE_FIRST + TCD_F_ICMP] = "cause-icmp-unreachable",
	[TCD_C_CAUSE_FIRST + TCD_F_NO_ROUTE] = "cause-no-route",
	[TCD_C_CAUSE_FIRST + TCD_F_SADDR_LOST] = "cause-saddr-lost",
	[TCD_C_CAUSE_FIRST + TCD_F_ROUTE_LOST] = "cause-route-lost",
	[TCD_C_CAUSE_FIRST + TCD_F_DENIED] = "cause-denied",
	[TCD_C_CAUSE_FIRST + TCD_F_OTHER] = "cause-other",
	[TCD_C_CAUSE_FIRST + TCD_F_EADDRNOTAVAIL] = "cause-eaddrnotavail",
	[TCD_C_CAUSE_FIRST + TCD_F_WEDGED] = "cause-wedged",
	[TCD_C_FAILED_PRINTED] = "failed-printed",
	[TCD_C_FAILED_SUPPRESSED] = "failed-suppressed",
};
static_assert(TCD_C_CAUSE_LAST - TCD_C_CAUSE_FIRST + 1 == TCD_F_NR);

static unsigned int tcd_net_gen_id __read_mostly;

/*
 * NULL only for a namespace our init has not run for; registration and
 * namespace setup and cleanup exclude each other (pernet_ops_rwsem), so
 * every namespace a probe can see has had it.
 */
struct tcd_net *tcd_net(const struct net *net)
{
	return net_generic(net, tcd_net_gen_id);
}

#ifndef TCD_HAVE_NET_COOKIE
/* Namespace ids where the kernel has no net_cookie: never reused while loaded. */
static atomic64_t tcd_net_next_id = ATOMIC64_INIT(0);
#endif

/* Runs for every namespace at registration, then for each new one. */
static int __net_init tcd_net_init(struct net *net)
{
	struct tcd_net *tn = tcd_net(net);

	INIT_LIST_HEAD(&tn->rows);
#ifndef TCD_HAVE_NET_COOKIE
	tn->id = atomic64_inc_return(&tcd_net_next_id);
#endif
	return 0;
}

/*
 * Rows and destinations are keyed by an id never reused, so a later
 * namespace cannot see them; they are dropped here to free the slots,
 * each namespace's rows from its own list (at rmmod: once per namespace,
 * each at the cost of its own rows).
 */
static void __net_exit tcd_net_exit(struct net *net)
{
	tcd_table_clear_netns(net, true);
	tcd_dests_clear_netns(tcd_netns_id(net));
	tcd_failed_clear_netns(tcd_netns_id(net));
}

static struct pernet_operations tcd_net_ops = {
	.init = tcd_net_init,
	.exit = tcd_net_exit,
	.id = &tcd_net_gen_id,
	.size = sizeof(struct tcd_net),
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
	err = tcd_probes_register();
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
	tcd_probes_unregister();
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
MODULE_DESCRIPTION("Explains failed TCP connect()s: poisoned sockets, EADDRNOTAVAIL, source-address stalls, and the cause of every other failure");
