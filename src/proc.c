// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpconndiag: a header (version, kernel, guard, probes, counters,
 * busiest EADDRNOTAVAIL destinations, failures by destination and cause)
 * then one row per tracked socket of the
 * reader's network namespace. Root-only (0600). Writing "clear" forgets
 * the writer's namespace's rows and destinations, which needs CAP_NET_ADMIN
 * over that namespace (its owning user namespace: a container's root may
 * clear its own); from the initial namespace, where that is CAP_NET_ADMIN
 * itself, it also resets the global counters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/ktime.h>
#include <linux/nsproxy.h>
#include <linux/ctype.h>
#include <net/net_namespace.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_CMD_MAX 32

static struct proc_dir_entry *tcd_proc;

static struct net *tcd_current_net(void)
{
	return current->nsproxy->net_ns;
}

static void tcd_show_header(struct seq_file *m, u64 netns)
{
	struct tcd_probe_stat st;
	struct tcd_dest d;
	unsigned long flags;
	unsigned int used;
	u64 evictions, stale, now = ktime_get_ns();
	int i;

	seq_printf(m, "version: %s\n", TCD_VERSION);
	seq_printf(m, "kernel: %s\n", init_utsname()->release);
	seq_printf(m, "guard: %s\n", TCD_GUARD);
	seq_printf(m, "poisoning: %s\n", TCD_GUARD_POISON_POSSIBLE ?
		   "possible (tcp_disconnect() returns EBUSY while threads wait)" :
		   "immune (this kernel never leaves a socket in SS_DISCONNECTING after EBUSY)");
	seq_printf(m, "params: capacity=%u maxactive=%u maxactive_short=%u\n",
		   tcd_capacity, tcd_maxactive, tcd_maxactive_short);
	seq_printf(m, "memory: table_bytes=%zu entry_bytes=%zu probe_instance_bytes=%zu waiter_bytes=%zu\n",
		   tcd_capacity * sizeof(struct tcd_entry) +
		   roundup_pow_of_two(tcd_capacity) * sizeof(struct hlist_head),
		   sizeof(struct tcd_entry), tcd_probe_instance_bytes(), tcd_waiters_bytes());
	for (i = 0; i < tcd_probe_count(); i++) {
		tcd_probe_stat(i, &st);
		seq_printf(m, "probe: %s hits=%lu nmissed=%d maxactive=%d%s%s\n", st.symbol,
			   st.hits, st.nmissed, st.maxactive,
			   st.tracepoint ? " kind=tracepoint" : "",
			   st.registered ? "" : " unregistered");
	}
	for (i = 0; i < TCD_C_NR; i++)
		seq_printf(m, "counter: %s %lld\n", tcd_counter_names[i],
			   (long long)atomic64_read(&tcd_counters[i]));
	for (i = 0; i < TCD_MAX_DESTS; i++) {
		char ep[64];

		if (!tcd_dest_copy_at(i, &d) || d.netns != netns)
			continue;
		tcd_fmt_ep(ep, sizeof(ep), d.family, &d.ep);
		seq_printf(m, "eaddrnotavail-dest: dst=%s count=%llu last_s_ago=%llu\n", ep,
			   d.count, div_u64(now - d.last_ns, NSEC_PER_SEC));
	}
	for (i = 0; i < TCD_MAX_FAILED_DESTS; i++) {
		struct tcd_failed_dest f;
		char ep[64];

		if (!tcd_failed_copy_at(i, &f) || f.netns != netns)
			continue;
		tcd_fmt_ep(ep, sizeof(ep), f.family, &f.ep);
		seq_printf(m, "failed-dest: dst=%s cause=%s count=%llu err=%s mode=%s last_s_ago=%llu comm=%s cgroup=%s\n",
			   ep, tcd_cause_names[f.cause], f.count, tcd_errname(f.err),
			   f.blocking ? "blocking" : "nonblocking",
			   div_u64(now - f.last_ns, NSEC_PER_SEC), f.comm[0] ? f.comm : "?",
			   f.cgroup[0] ? f.cgroup : "?");
	}
	raw_spin_lock_irqsave(&tcd_lock, flags);
	used = tcd_used;
	evictions = tcd_evictions;
	stale = tcd_stale;
	raw_spin_unlock_irqrestore(&tcd_lock, flags);
	seq_printf(m, "netns: id=%llu\n", netns);
	seq_printf(m, "table: used=%u capacity=%u evictions=%llu stale=%llu\n", used,
		   tcd_capacity, evictions, stale);
	seq_puts(m, "sockets:\n");
}

static void tcd_show_thread(struct seq_file *m, const char *prefix, const struct tcd_thread *t)
{
	seq_printf(m, " %spid=%d %scomm=%s", prefix, t->pid, prefix, t->comm[0] ? t->comm : "?");
	if (t->kind != TCD_W_NONE && t->kind < TCD_W_NR)
		seq_printf(m, " %skind=%s", *prefix ? prefix : "waiter_", tcd_wait_names[t->kind]);
}

static void tcd_show_entry(struct seq_file *m, const struct tcd_entry *e)
{
	static const char *const ev_names[] = {
		"socket-poisoned", "connect-on-poisoned", "shutdown-ebusy", "sender-epipe",
		"saddr-lost", "stall-ended", "disconnect-ebusy", "route-lost",
		"shutdown-wedged", "unspec-ebusy", "soft-error",
	};
	u64 now = ktime_get_ns();
	char s[64], d[64], cg[TCD_CGROUP_LEN];
	bool first = true;
	int i;

	tcd_fmt_ep(s, sizeof(s), e->family, &e->src);
	tcd_fmt_ep(d, sizeof(d), e->family, &e->dst);
	seq_printf(m, "sock: src=%s dst=%s state=%s events=", s, d, tcd_state_name(e->state));
	for (i = 0; i < ARRAY_SIZE(ev_names); i++) {
		if (e->events & (1 << i)) {
			seq_printf(m, "%s%s", first ? "" : ",", ev_names[i]);
			first = false;
		}
	}
	if (first)
		seq_puts(m, "none");
	if (e->events & (TCD_EV_POISONED | TCD_EV_SHUTDOWN_EBUSY | TCD_EV_DISCONNECT_EBUSY)) {
		tcd_show_thread(m, "", &e->connector);
		if (e->connect_err)
			seq_printf(m, " err=%s", tcd_errname(e->connect_err));
		tcd_show_thread(m, "ebusy_", &e->ebusy_by);
		seq_printf(m, " wait_pending=%u", e->wait_pending);
		for (i = 0; i < e->nr_blocked; i++)
			tcd_show_thread(m, "waiter_", &e->blocked[i]);
		seq_printf(m, " einval=%u", e->einval_count);
	}
	if (e->events & TCD_EV_SHUTDOWN_WEDGED)
		tcd_show_thread(m, "shutdown_", &e->shut_by);
	if (e->events & TCD_EV_SENDER_EPIPE)
		tcd_show_thread(m, "connect_", &e->disc_by);
	if (e->events & TCD_EV_STALLED) {
		if (!(e->events & (TCD_EV_POISONED | TCD_EV_SHUTDOWN_EBUSY)))
			tcd_show_thread(m, "", &e->connector);
		seq_printf(m, " route_err=%s lost_state=%s retransmits=%u syn_retries=%u lost_s_ago=%llu",
			   tcd_errname(e->route_err), tcd_state_name(e->lost_state),
			   e->retransmits, e->syn_retries,
			   div_u64(now - e->lost_ns, NSEC_PER_SEC));
	}
	if (e->events & TCD_EV_STALL_ENDED)
		seq_printf(m, " stalled_ms=%llu stall_err=%s", div_u64(e->stall_ns, NSEC_PER_MSEC),
			   tcd_errname(e->stall_err));
	tcd_cgroup_path_by_id(e->cgid, cg, sizeof(cg));
	seq_printf(m, " uid=%u cgroup=%s age_s=%llu\n", e->uid, cg,
		   div_u64(now - e->created_ns, NSEC_PER_SEC));
}

/* Positions: 0 is the header, 1..capacity are table slots. */
static void *tcd_seq_start(struct seq_file *m, loff_t *pos)
{
	return *pos <= tcd_capacity ? (void *)(uintptr_t)(*pos + 1) : NULL;
}

static void *tcd_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return tcd_seq_start(m, pos);
}

static void tcd_seq_stop(struct seq_file *m, void *v)
{
}

static int tcd_seq_show(struct seq_file *m, void *v)
{
	unsigned long pos = (uintptr_t)v - 1;
	u64 netns = *(u64 *)m->private;
	struct tcd_entry e;

	if (!pos) {
		tcd_show_header(m, netns);
		return 0;
	}
	if (tcd_table_copy_at(pos - 1, &e) && e.netns == netns)
		tcd_show_entry(m, &e);
	cond_resched();
	return 0;
}

static const struct seq_operations tcd_seq_ops = {
	.start = tcd_seq_start,
	.next = tcd_seq_next,
	.stop = tcd_seq_stop,
	.show = tcd_seq_show,
};

/* The reader's namespace, fixed at open: its id, which is never reused. */
static int tcd_open(struct inode *inode, struct file *file)
{
	u64 *netns = __seq_open_private(file, &tcd_seq_ops, sizeof(*netns));

	if (!netns)
		return -ENOMEM;
	*netns = tcd_netns_id(tcd_current_net());
	return 0;
}

static void tcd_clear(struct net *net)
{
	int i;

	tcd_table_clear_netns(net, false);
	tcd_dests_clear_netns(tcd_netns_id(net));
	tcd_failed_clear_netns(tcd_netns_id(net));
	if (!net_eq(net, &init_net))
		return;
	for (i = 0; i < TCD_C_NR; i++)
		atomic64_set(&tcd_counters[i], 0);
	tcd_reset_probe_hits();
	tcd_reset_alert_limits();
}

/* Commands: "clear" (an optional trailing newline is accepted). */
static ssize_t tcd_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct net *net = tcd_current_net();
	char cmd[TCD_CMD_MAX + 1];
	size_t n = len;

	/* For init_net, owned by init_user_ns, this is capable(CAP_NET_ADMIN). */
	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (!len)
		return -EINVAL;
	if (len > TCD_CMD_MAX)
		return -E2BIG;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (cmd[n - 1] == '\n')
		cmd[--n] = '\0';
	if (strlen(cmd) != n)	/* embedded NUL: binary input */
		return -EINVAL;
	if (strcmp(cmd, "clear"))
		return -EINVAL;
	tcd_clear(net);
	return len;
}

static const struct proc_ops tcd_proc_ops = {
	.proc_open = tcd_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = seq_release_private,
	.proc_write = tcd_write,
};

int tcd_proc_init(void)
{
	/* 0600: root reads, and writes commands (CAP_NET_ADMIN checked at write). */
	tcd_proc = proc_create(TCD_NAME, 0600, NULL, &tcd_proc_ops);
	return tcd_proc ? 0 : -ENOMEM;
}

void tcd_proc_exit(void)
{
	proc_remove(tcd_proc);
}
