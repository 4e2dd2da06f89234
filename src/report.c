// SPDX-License-Identifier: GPL-2.0
/*
 * Formatting helpers and the rate-limited alert channel.
 *
 * Alerts are single printk lines "tcpconndiag: <event> key=value ...", so a
 * log reader can grep them; each kind has its own budget so a storm of one
 * failure cannot hide another.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/moduleparam.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>
#include <net/ipv6.h>
#include <net/addrconf.h>
#include <linux/inetdevice.h>
#include <linux/cgroup.h>
#include <linux/kernfs.h>
#include "tcd.h"
#include "tcd_compat.h"

static unsigned int alert_burst = 10;
module_param(alert_burst, uint, 0644);
MODULE_PARM_DESC(alert_burst, "Alerts of one kind printed per alert_interval (default 10)");

static unsigned int alert_interval = 5;
module_param(alert_interval, uint, 0644);
MODULE_PARM_DESC(alert_interval, "Rate-limit window for alerts, in seconds (default 5)");

void tcd_thread_current(struct tcd_thread *t)
{
	t->pid = current->pid;
	t->tgid = current->tgid;
	t->kind = TCD_W_NONE;
	t->reported = 0;
	memcpy(t->comm, current->comm, TASK_COMM_LEN);
	tcd_thread_sanitize(t);
}

void tcd_endpoints_from_sk(struct sock *sk, struct tcd_endpoint *src,
			   struct tcd_endpoint *dst)
{
	const struct inet_sock *inet = inet_sk(sk);

#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		src->addr.v6 = sk->sk_v6_rcv_saddr;
		dst->addr.v6 = sk->sk_v6_daddr;
	} else
#endif
	{
		src->addr.v4 = inet->inet_saddr;
		dst->addr.v4 = inet->inet_daddr;
	}
	src->port = ntohs(inet->inet_sport);
	dst->port = ntohs(inet->inet_dport);
}

const char *tcd_errname(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	case ENOBUFS: return "ENOBUFS";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETDOWN: return "ENETDOWN";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTDOWN: return "EHOSTDOWN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EALREADY: return "EALREADY";
	case EINPROGRESS: return "EINPROGRESS";
	case ERESTARTSYS: return "ERESTARTSYS";
	default: return "E?";
	}
}

const char *tcd_state_name(int state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED",
		[TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",
		[TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",
		[TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",
		[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",
		[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
		[TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	if (state >= 0 && state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "UNKNOWN";
}

/*
 * alert_interval in jiffies. The parameter is writable: an unsigned int
 * times HZ would wrap, so it is computed in unsigned long and capped at a
 * day (time_after() needs less than half the jiffies range).
 */
unsigned long tcd_alert_interval(void)
{
	return min_t(unsigned long, READ_ONCE(alert_interval), 86400UL) * HZ;
}

/* Per-kind fixed-window limiters: alert_burst lines per alert_interval. */
static struct tcd_limit tcd_limits[TCD_A_NR];
static DEFINE_RAW_SPINLOCK(tcd_limit_lock);

/*
 * Returns whether an alert of @kind may be printed now; when it may, and
 * earlier ones were dropped, *suppressed says how many so the line can
 * carry "suppressed=N" and nothing is silently lost.
 */
bool tcd_alert_allowed(enum tcd_alert_kind kind, unsigned int *suppressed)
{
	unsigned long flags, now = jiffies;
	bool ok;

	raw_spin_lock_irqsave(&tcd_limit_lock, flags);
	ok = tcd_limit_take(&tcd_limits[kind], now, tcd_alert_interval(),
			    READ_ONCE(alert_burst), suppressed);
	raw_spin_unlock_irqrestore(&tcd_limit_lock, flags);
	/* connect-failed lines have their own counters (failed-printed/-suppressed). */
	if (kind != TCD_A_FAILED)
		tcd_count(ok ? TCD_C_ALERTS : TCD_C_ALERTS_SUPPRESSED);
	return ok;
}

/*
 * Finish @l with suppressed=N (when earlier lines were dropped) and the
 * hint (@hint then @tail), and print it. The hint goes last so a reader
 * always finds the counts; a line cut at the buffer's end is counted.
 */
static void tcd_alert_finish(struct tcd_line *l, unsigned int suppressed, const char *hint,
			     const char *tail)
{
	if (suppressed)
		tcd_line_add(l, " suppressed=%u", suppressed);
	tcd_line_add(l, " hint=\"%s%s\"", hint, tail ? tail : "");
	if (l->truncated)
		tcd_count(TCD_C_ALERTS_TRUNCATED);
}

void tcd_alert_print(struct tcd_line *l, unsigned int suppressed, const char *hint,
		     const char *tail)
{
	tcd_alert_finish(l, suppressed, hint, tail);
	pr_warn("%s\n", l->buf);
}

/* Ordinary failures (connect-failed) are information, not warnings. */
void tcd_alert_print_info(struct tcd_line *l, unsigned int suppressed, const char *hint,
			  const char *tail)
{
	tcd_alert_finish(l, suppressed, hint, tail);
	pr_info("%s\n", l->buf);
}

/* tcd_alert_print() when @kind's budget allows; returns whether it printed. */
bool tcd_alert(struct tcd_line *l, enum tcd_alert_kind kind, const char *hint, const char *tail)
{
	unsigned int supp = 0;

	if (!tcd_alert_allowed(kind, &supp))
		return false;
	tcd_alert_print(l, supp, hint, tail);
	return true;
}

void tcd_reset_alert_limits(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&tcd_limit_lock, flags);
	memset(tcd_limits, 0, sizeof(tcd_limits));
	raw_spin_unlock_irqrestore(&tcd_limit_lock, flags);
}

void tcd_line_thread(struct tcd_line *l, const char *prefix, const struct tcd_thread *t)
{
	if (t->pid <= 0)	/* not known: a non-blocking connect's failure, say */
		tcd_line_add(l, " %spid=? %stgid=? %scomm=?", prefix, prefix, prefix);
	else
		tcd_line_add(l, " %spid=%d %stgid=%d %scomm=%s", prefix, t->pid, prefix,
			     t->tgid, prefix, t->comm[0] ? t->comm : "?");
	if (t->kind != TCD_W_NONE && t->kind < TCD_W_NR)
		tcd_line_add(l, " %skind=%s", *prefix ? prefix : "waiter_",
			     tcd_wait_names[t->kind]);
}

/* The keys every alert carries: event pid tgid comm src dst err. */
void tcd_line_start(struct tcd_line *l, const char *event, const struct tcd_thread *t,
		    u16 family, const struct tcd_endpoint *src,
		    const struct tcd_endpoint *dst, int err)
{
	char s[64], d[64];

	tcd_fmt_ep(s, sizeof(s), family, src);
	tcd_fmt_ep(d, sizeof(d), family, dst);
	l->len = 0;
	l->truncated = false;
	l->buf[0] = '\0';
	tcd_line_add(l, "%s", event);
	tcd_line_thread(l, "", t);
	tcd_line_add(l, " src=%s dst=%s err=%s", s, d, tcd_errname(err));
}

u32 tcd_sk_uid(const struct sock *sk)
{
	return from_kuid_munged(&init_user_ns, READ_ONCE(sk->sk_uid));
}

/*
 * The socket's cgroup path. cgroup_path() takes kernfs_rename_lock, a
 * sleeping lock on PREEMPT_RT, and probes run with preemption off: walk
 * the kernfs parents ourselves. The socket holds a reference on its
 * cgroup and every kernfs node on its parent, so the chain stays; a name
 * is RCU-freed on 6.15+, and before that changes only on a cgroup rename.
 * Recently seen paths are kept by id so /proc rows can show them.
 */
#define TCD_CGROUP_DEPTH 16
#define TCD_CGROUP_CACHE 32

struct tcd_cgroup_name {
	u64 id;
	char path[TCD_CGROUP_LEN];
};

static struct tcd_cgroup_name tcd_cgroup_cache[TCD_CGROUP_CACHE];
static DEFINE_RAW_SPINLOCK(tcd_cgroup_lock);

#ifdef CONFIG_SOCK_CGROUP_DATA
static struct kernfs_node *tcd_kn_parent(struct kernfs_node *kn)
{
#ifdef TCD_HAVE_KERNFS_RCU
	return rcu_dereference(kn->__parent);
#else
	return READ_ONCE(kn->parent);
#endif
}

static const char *tcd_kn_name(struct kernfs_node *kn)
{
#ifdef TCD_HAVE_KERNFS_RCU
	return rcu_dereference(kn->name);
#else
	return READ_ONCE(kn->name);
#endif
}
#endif

/* The id of @sk's cgroup (v2), 0 without cgroup data: cheap, for rows. */
u64 tcd_sk_cgroup_id(const struct sock *sk)
{
	u64 id = 0;
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *cgrp;

	rcu_read_lock();
	cgrp = sock_cgroup_ptr((struct sock_cgroup_data *)&sk->sk_cgrp_data);
	if (cgrp && cgrp->kn)
		id = cgrp->kn->id;
	rcu_read_unlock();
#endif
	return id;
}

/* Fills @buf with the path of @sk's cgroup ("/" at the root); returns its id. */
u64 tcd_sk_cgroup(const struct sock *sk, char *buf, size_t len)
{
	u64 id = 0;
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct kernfs_node *kn, *chain[TCD_CGROUP_DEPTH];
	struct cgroup *cgrp;
	unsigned long flags;
	size_t pos = 0;
	int n = 0, i;

	buf[0] = '\0';
	rcu_read_lock();
	cgrp = sock_cgroup_ptr((struct sock_cgroup_data *)&sk->sk_cgrp_data);
	kn = cgrp ? cgrp->kn : NULL;
	if (kn) {
		id = kn->id;
		for (; tcd_kn_parent(kn) && n < TCD_CGROUP_DEPTH; kn = tcd_kn_parent(kn))
			chain[n++] = kn;
		if (tcd_kn_parent(kn))
			pos = scnprintf(buf, len, "/...");
		while (n--)
			pos += scnprintf(buf + pos, len - pos, "/%s", tcd_kn_name(chain[n]));
	}
	rcu_read_unlock();
	if (!pos)
		strscpy(buf, kn ? "/" : "?", len);
	/* Keep the line key=value: a cgroup name may hold spaces or quotes. */
	for (i = 0; buf[i]; i++)
		if (buf[i] <= ' ' || buf[i] > '~' || buf[i] == '"' || buf[i] == '=')
			buf[i] = '?';
	if (id) {
		struct tcd_cgroup_name *c = &tcd_cgroup_cache[hash_64(id, ilog2(TCD_CGROUP_CACHE))];

		raw_spin_lock_irqsave(&tcd_cgroup_lock, flags);
		if (c->id != id) {
			c->id = id;
			strscpy(c->path, buf, sizeof(c->path));
		}
		raw_spin_unlock_irqrestore(&tcd_cgroup_lock, flags);
	}
#else
	strscpy(buf, "/", len);
#endif
	return id;
}

/* The path of cgroup @id if it was seen lately, else "id:N". */
void tcd_cgroup_path_by_id(u64 id, char *buf, size_t len)
{
	struct tcd_cgroup_name *c = &tcd_cgroup_cache[hash_64(id, ilog2(TCD_CGROUP_CACHE))];
	unsigned long flags;
	bool found;

	raw_spin_lock_irqsave(&tcd_cgroup_lock, flags);
	found = id && c->id == id;
	if (found)
		strscpy(buf, c->path, len);
	raw_spin_unlock_irqrestore(&tcd_cgroup_lock, flags);
	if (!found)
		scnprintf(buf, len, "id:%llu", id);
}

/* The keys after err= on every alert: the socket's owner. */
void tcd_line_owner(struct tcd_line *l, const struct sock *sk)
{
	char cg[TCD_CGROUP_LEN];

	tcd_sk_cgroup(sk, cg, sizeof(cg));
	tcd_line_add(l, " uid=%u cgroup=%s", tcd_sk_uid(sk), cg);
}

/* Is @addr an address of this host in @net (loopback subnets included)? */
bool tcd_addr_is_local(struct net *net, u16 family, const union tcd_addr *addr)
{
	bool local;

#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6) {
		if (!ipv6_addr_v4mapped(&addr->v6))
			return ipv6_chk_addr(net, &addr->v6, NULL, 0);
		rcu_read_lock();
		local = __ip_dev_find(net, addr->v6.s6_addr32[3], false);
		rcu_read_unlock();
		return local;
	}
#endif
	rcu_read_lock();
	local = __ip_dev_find(net, addr->v4, false);
	rcu_read_unlock();
	return local;
}
