/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpconndiag: shared definitions.
 *
 * Every probe handler runs in atomic context. State that outlives a probe call
 * lives in the preallocated per-socket table (table.c) as plain copies; the
 * struct sock pointer stored there is only a lookup key and is never
 * dereferenced once the probed call has returned.
 */
#ifndef TCD_H
#define TCD_H

#include <linux/types.h>
#include <linux/in6.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <net/sock.h>
#include "tcd_pure.h"

#ifndef TCD_VERSION
#error "TCD_VERSION comes from dkms.conf via Kbuild"
#endif
#define TCD_NAME "tcpconndiag"

/* Threads remembered per socket; more are counted, not named. */
#define TCD_MAX_WAITERS 2

/* The wait a blocked thread was in (waiters.c). */
enum tcd_wait_kind {
	TCD_W_NONE,
	TCD_W_CONNECT,		/* connect(): inet_wait_for_connect() */
	TCD_W_SEND,		/* send(): sk_stream_wait_connect/_memory() */
	TCD_W_RECV,		/* recv(): sk_wait_data() */
	TCD_W_OTHER,
	TCD_W_NR
};

/* Event bits on a socket's row. */
enum {
	TCD_EV_POISONED		= 1 << 0,
	TCD_EV_CONNECT_ON_POISONED = 1 << 1,
	TCD_EV_SHUTDOWN_EBUSY	= 1 << 2,
	TCD_EV_SENDER_EPIPE	= 1 << 3,
	TCD_EV_SADDR_LOST	= 1 << 4,
	TCD_EV_STALL_ENDED	= 1 << 5,
	TCD_EV_DISCONNECT_EBUSY	= 1 << 6,
	TCD_EV_ROUTE_LOST	= 1 << 7,
	TCD_EV_SHUTDOWN_WEDGED	= 1 << 8,
	TCD_EV_UNSPEC_EBUSY	= 1 << 9,
	/* An ICMP error hit the handshake while connect() held the socket. */
	TCD_EV_SOFT_ERR		= 1 << 10,
	/* A stall began: its end is reported (stall-ended). */
	TCD_EV_STALLED		= TCD_EV_SADDR_LOST | TCD_EV_ROUTE_LOST,
};

struct tcd_entry {
	struct hlist_node hnode;
	struct list_head lru;
	const void *key;	/* the struct sock address: identity only */
	u64 cookie;		/* its socket cookie: see tcd_lookup() */
	u64 netns;		/* tcd_netns_id() of the socket's namespace */
	struct tcd_net *ns;	/* whose rows list holds @ns_node; NULL: none */
	struct list_head ns_node;
	u32 uid;		/* sk_uid, in the initial user namespace */
	u64 cgid;		/* the socket's cgroup (v2) id: see tcd_cgroup_path_by_id() */
	u16 family;
	u8 state;		/* TCP state when last updated */
	u32 events;
	u64 created_ns;
	u64 updated_ns;
	struct tcd_endpoint src;
	struct tcd_endpoint dst;

	/* poisoned socket / shutdown-ebusy (sk_wait_pending kernels) */
	struct tcd_thread ebusy_by;	/* thread whose tcp_disconnect() got EBUSY */
	u64 ebusy_ns;
	u32 wait_pending;
	struct tcd_thread blocked[TCD_MAX_WAITERS];	/* other waiters at EBUSY */
	u8 nr_blocked;		/* named in blocked[] */
	u8 all_blocked;		/* in all */
	struct tcd_thread connector;	/* connect() whose failure mattered */
	int connect_err;
	u32 einval_count;

	/* shutdown() that left SS_DISCONNECTING */
	struct tcd_thread shut_by;

	/* sender-epipe (sk_disconnects kernels) */
	struct tcd_thread disc_by;
	u64 disc_ns;

	/* saddr-lost, route-lost */
	u64 lost_ns;
	int route_err;
	u8 lost_state;
	u8 retransmits;
	u8 syn_retries;
	u64 handshake_ns;	/* first SYN of the stalled handshake */
	u64 stall_ns;
	int stall_err;

	/* connect-failed: the soft error an ICMP left (SO_ERROR returns it) */
	int soft_err;
};

/*
 * Per network namespace (main.c, net_generic): the rows of its sockets, so
 * that its exit or "clear" costs its own rows, not a walk of the table.
 */
struct tcd_net {
	struct list_head rows;	/* tcd_entry.ns_node; under tcd_lock */
	unsigned int nr_rows;	/* on @rows; under tcd_lock */
	bool exiting;		/* under tcd_lock: its exit began, link no more rows */
	u64 id;			/* tcd_netns_id() where the kernel has no net_cookie */
};
struct tcd_net *tcd_net(const struct net *net);

/* Counters shown in /proc and reset by "clear". */
enum tcd_counter {
	TCD_C_CONNECT_FAILED,
	TCD_C_ETIMEDOUT,
	TCD_C_ECONNREFUSED,
	TCD_C_EINVAL,
	TCD_C_EADDRNOTAVAIL,
	TCD_C_ENETUNREACH,
	TCD_C_OTHER_ERR,
	TCD_C_DISCONNECT_EBUSY,
	TCD_C_SOCKET_POISONED,
	TCD_C_CONNECT_ON_POISONED,
	TCD_C_SHUTDOWN_EBUSY,
	TCD_C_SENDER_EPIPE,
	TCD_C_EADDR_EPHEMERAL,
	TCD_C_EADDR_BOUND,
	TCD_C_SADDR_LOST,
	TCD_C_ROUTE_LOST,
	TCD_C_STALL_ENDED,
	TCD_C_ALERTS,
	TCD_C_ALERTS_SUPPRESSED,
	TCD_C_WAITERS_UNRECORDED,
	TCD_C_ALERTS_TRUNCATED,
	/* connect-failed, by cause (enum tcd_cause order) */
	TCD_C_CAUSE_FIRST,
	TCD_C_CAUSE_LAST = TCD_C_CAUSE_FIRST + 11,
	TCD_C_FAILED_PRINTED,
	TCD_C_FAILED_SUPPRESSED,
	TCD_C_NR
};

extern atomic64_t tcd_counters[TCD_C_NR];
extern const char *const tcd_counter_names[TCD_C_NR];

static inline void tcd_count(enum tcd_counter c)
{
	atomic64_inc(&tcd_counters[c]);
}

/* Module parameters (main.c). */
extern unsigned int tcd_capacity;
extern unsigned int tcd_maxactive;
extern unsigned int tcd_maxactive_short;

/*
 * table.c: all calls below except tcd_table_maybe_has() need tcd_lock. Probe
 * handlers take it with preemption off, so it is a raw spinlock (a
 * spinlock_t sleeps on PREEMPT_RT); nothing is formatted or printed under it.
 */
extern raw_spinlock_t tcd_lock;
extern u64 tcd_evictions;
extern u64 tcd_stale;
extern unsigned int tcd_used;

int tcd_table_init(unsigned int capacity);
void tcd_table_exit(void);
bool tcd_table_maybe_has(const struct sock *sk);
struct tcd_entry *tcd_lookup(const struct sock *sk);
struct tcd_entry *tcd_get_or_create(struct sock *sk);
void tcd_touch(struct tcd_entry *e);
void tcd_remove_entry(struct tcd_entry *e);
bool tcd_table_copy_at(unsigned int idx, struct tcd_entry *out);
void tcd_table_clear_netns(struct net *net, bool exiting);

/* report.c */
/* struct tcd_line, tcd_line_add(), tcd_fmt_ep(), tcd_thread_sanitize(): tcd_pure.h */
void tcd_line_start(struct tcd_line *l, const char *event, const struct tcd_thread *t,
		    u16 family, const struct tcd_endpoint *src,
		    const struct tcd_endpoint *dst, int err);
void tcd_line_owner(struct tcd_line *l, const struct sock *sk);
#define TCD_CGROUP_LEN 96
u64 tcd_sk_cgroup(const struct sock *sk, char *buf, size_t len);
u64 tcd_sk_cgroup_id(const struct sock *sk);
void tcd_cgroup_path_by_id(u64 id, char *buf, size_t len);
u32 tcd_sk_uid(const struct sock *sk);
bool tcd_addr_is_local(struct net *net, u16 family, const union tcd_addr *addr);
void tcd_line_thread(struct tcd_line *l, const char *prefix, const struct tcd_thread *t);
void tcd_thread_current(struct tcd_thread *t);
void tcd_endpoints_from_sk(struct sock *sk, struct tcd_endpoint *src,
			   struct tcd_endpoint *dst);
const char *tcd_errname(int err);
const char *tcd_state_name(int state);

/* waiters.c: lock-free registry of threads blocked on a socket */
extern const char *const tcd_wait_names[TCD_W_NR];
int tcd_waiters_init(unsigned int slots);
void tcd_waiters_exit(void);
size_t tcd_waiters_bytes(void);
int tcd_waiter_add(const struct sock *sk, enum tcd_wait_kind kind);
bool tcd_waiter_del(int idx);
bool tcd_waiter_report(const struct sock *sk, enum tcd_wait_kind kind, struct tcd_thread *out);
int tcd_waiters_of(const struct sock *sk, pid_t skip_pid, enum tcd_wait_kind first,
		   struct tcd_thread *out, int max);

enum tcd_alert_kind {
	TCD_A_POISON,		/* socket-poisoned, connect-on-poisoned */
	TCD_A_SHUTDOWN,
	TCD_A_EPIPE,
	TCD_A_EADDR,
	TCD_A_SADDR,
	TCD_A_FAILED,		/* connect-failed: informational */
	TCD_A_NR
};
bool tcd_alert_allowed(enum tcd_alert_kind kind, unsigned int *suppressed);
void tcd_alert_print(struct tcd_line *l, unsigned int suppressed, const char *hint,
		     const char *tail);
void tcd_alert_print_info(struct tcd_line *l, unsigned int suppressed, const char *hint,
			  const char *tail);
unsigned long tcd_alert_interval(void);
bool tcd_alert(struct tcd_line *l, enum tcd_alert_kind kind, const char *hint, const char *tail);
void tcd_reset_alert_limits(void);

/* proc.c */
int tcd_proc_init(void);
void tcd_proc_exit(void);

/* probes.c: probe indices and per-CPU hit counters */
enum tcd_probe_id {
	TCD_P_CONNECT,
	TCD_P_RETRANSMIT,
	TCD_P_LOSS_PROBE,
	TCD_P_WAIT_CONNECT,
	TCD_P_SHUTDOWN,
	TCD_P_WAIT_MEMORY,
	TCD_P_WAIT_DATA,
	TCD_P_DESTRUCT,
	TCD_P_DONE,
	TCD_P_V4_ERR,
	TCD_P_V6_ERR,
	TCD_P_NR
};
DECLARE_PER_CPU(unsigned long[TCD_P_NR], tcd_hits);

static inline void tcd_hit(enum tcd_probe_id id)
{
	this_cpu_inc(tcd_hits[id]);
}

/*
 * One probe a diagnosis needs. With @ret it is a kretprobe (@entry may
 * return 1 to skip the return), with @tp a probe on the tracepoint named
 * @symbol, else a kprobe whose pre-handler is @pre. @pool picks maxactive
 * (blocking functions) or maxactive_short.
 */
enum tcd_pool { TCD_POOL_SHORT, TCD_POOL_BLOCKING };

struct tcd_probe_desc {
	enum tcd_probe_id id;
	const char *symbol;
	kretprobe_handler_t entry;
	kretprobe_handler_t ret;
	kprobe_pre_handler_t pre;
	void *tp;		/* void (*)(void *data, TP_PROTO...) */
	size_t data_size;
	enum tcd_pool pool;
	/* Optional: the kernel may lack it (a static function not in kallsyms). */
	bool optional;
};

/* Each diagnosis file exports its table (connect.c, poison.c, ...). */
struct tcd_probe_set {
	const struct tcd_probe_desc *descs;
	unsigned int n;
};
extern const struct tcd_probe_set tcd_connect_probes, tcd_poison_probes, tcd_saddr_probes,
	tcd_waiter_probes, tcd_failed_probes;

struct tcd_probe_stat {
	const char *symbol;
	unsigned long hits;
	int nmissed;
	int maxactive;
	bool registered;
	bool tracepoint;
};
int tcd_probes_register(void);
void tcd_probes_unregister(void);
int tcd_probe_count(void);
void tcd_probe_stat(int idx, struct tcd_probe_stat *st);
void tcd_reset_probe_hits(void);
size_t tcd_probe_instance_bytes(void);

/*
 * connect.c, the hub: one __inet_stream_connect call as its entry saw it.
 * uaddr points into the caller's frame (or io_uring's request), alive until
 * the return handler is done.
 */
struct tcd_connect_call {
	struct sock *sk;	/* its socket is sk->sk_socket (grafted) */
	const struct sockaddr *uaddr;
	u64 start_ns;
	int addr_len;
	int slot;		/* waiters.c, for a blocking connect() */
	u16 bound_port;		/* inet_num at entry: bound before connect() */
	u8 sock_state;		/* sock->state at entry */
	bool nonblock;		/* the call's O_NONBLOCK */
	bool unspec;		/* connect(AF_UNSPEC): a disconnect request */
};

/* What a connect() return found under the table lock, reported after it. */
enum tcd_connect_event {
	TCD_CE_NONE,
	TCD_CE_POISONED,
	TCD_CE_ON_POISONED,
	TCD_CE_STALL_ENDED,
};

/* poison.c and saddr.c: called by the hub under tcd_lock, then unlocked. */
enum tcd_connect_event tcd_poison_on_connect(struct tcd_entry *e,
					     const struct tcd_connect_call *c, int ret,
					     int state, bool wedged_einval,
					     const struct tcd_thread *me, u64 now);
void tcd_poison_alert(enum tcd_connect_event ev, struct sock *sk, const struct tcd_entry *e,
		      const struct tcd_thread *me, int ret);
bool tcd_stall_on_connect(struct tcd_entry *e, const struct tcd_connect_call *c, int ret,
			  const struct tcd_thread *me, u64 now);
void tcd_stall_alert(struct sock *sk, const struct tcd_entry *e, int ret, u64 now);
/* poison.c: what a disconnect inside a watched call did. */
void tcd_disconnect_ebusy(struct sock *sk);
void tcd_disconnect_epipe_note(struct sock *sk, const struct tcd_endpoint *src,
			       const struct tcd_endpoint *dst);
/* Testing only (55-stale.t): drop socket destructions as a lost hit would. */
extern bool tcd_test_drop_destroy;
/* eaddr.c: connect() returned EADDRNOTAVAIL; a routed connect() failed. */
void tcd_eaddr_on_connect(const struct tcd_connect_call *c);
void tcd_eaddr_note(struct sock *sk);

/* failed.c: why a connect failed (connect-failed). */
enum tcd_cause {
	TCD_F_NO_LISTENER,
	TCD_F_PEER_RESET,
	TCD_F_BACKLOG_FULL,
	TCD_F_NO_SYNACK,
	TCD_F_ICMP,
	TCD_F_NO_ROUTE,
	TCD_F_SADDR_LOST,
	TCD_F_ROUTE_LOST,
	TCD_F_DENIED,
	TCD_F_OTHER,
	TCD_F_EADDRNOTAVAIL,
	TCD_F_WEDGED,
	TCD_F_NR
};
extern const char *const tcd_cause_names[TCD_F_NR];
struct tcd_failed_dest;
void tcd_failed_on_connect(const struct tcd_connect_call *c, int ret, int state);
void tcd_failed_on_return(const struct tcd_connect_call *c, int ret);
bool tcd_failed_peek_tuple(const struct sock *sk, struct tcd_endpoint *src,
			   struct tcd_endpoint *dst);
void tcd_failed_note_caller(const struct tcd_connect_call *c);
void tcd_failed_on_row(struct tcd_entry *e, const struct tcd_thread *me);
void tcd_failed_soft_closed(struct sock *sk, const struct tcd_entry *e);
bool tcd_failed_copy_at(unsigned int idx, struct tcd_failed_dest *out);
void tcd_failed_clear_netns(u64 netns);

/* Failures by destination and cause (/proc failed-dest lines). */
#define TCD_MAX_FAILED_DESTS 32
struct tcd_failed_dest {
	u16 family;
	u8 cause;
	u8 blocking;
	struct tcd_endpoint ep;
	u64 netns;
	int err;
	u64 count;
	u64 last_ns;
	unsigned long last_alert;	/* jiffies; 0: never printed */
	unsigned int suppressed;
	char comm[TASK_COMM_LEN];
	char cgroup[TCD_CGROUP_LEN];
};

/* Probe handlers, one file per diagnosis. */
void tcd_waiter_epipe(struct sock *sk, u64 start_ns, enum tcd_wait_kind kind);
bool tcd_is_tcp(const struct sock *sk);

/* eaddr.c: bounded list of destinations that hit port exhaustion */
#define TCD_MAX_DESTS 16
struct tcd_dest {
	u16 family;
	struct tcd_endpoint ep;
	u64 netns;
	u64 count;
	u64 last_ns;
	unsigned long last_alert;	/* jiffies */
	unsigned int suppressed;
};
bool tcd_dest_copy_at(unsigned int idx, struct tcd_dest *out);
void tcd_dests_clear_netns(u64 netns);

#endif /* TCD_H */
