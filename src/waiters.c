// SPDX-License-Identifier: GPL-2.0
/*
 * Who is blocked on a socket, and in which wait: a lock-free registry.
 *
 * Threads sleeping in connect(), send() or recv() sit on the socket's wait
 * queue, but reading that queue takes its lock, which sleeps on
 * PREEMPT_RT, and probe handlers run with preemption disabled. So the probes
 * around each wait (__inet_stream_connect, sk_stream_wait_connect,
 * sk_stream_wait_memory, sk_wait_data) register the thread here on entry and
 * remove it on return; the retransmit timer and the connect() return read it.
 *
 * Slots are claimed with cmpxchg and published with a per-slot sequence
 * (odd while written), so a reader never takes a lock and never uses a torn
 * copy. A socket's slots lie in a short window after its hash; a full window
 * leaves the thread unregistered and counted (waiters-unrecorded).
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/vmalloc.h>
#include <linux/ktime.h>
#include "tcd.h"
#include "tcd_compat.h"

#define TCD_WAITER_WINDOW 8
/* Key of a slot whose owner is still writing it. */
#define TCD_WAITER_CLAIMED ((const void *)1UL)

struct tcd_waiter {
	const void *sk;		/* NULL: free */
	unsigned int seq;	/* odd while the fields below change */
	struct tcd_thread t;	/* t.reported: set by tcd_waiter_report() */
};

static struct tcd_waiter *tcd_waiters;
static unsigned int tcd_waiter_bits;

const char *const tcd_wait_names[TCD_W_NR] = {
	[TCD_W_NONE] = "none",
	[TCD_W_CONNECT] = "connect",
	[TCD_W_SEND] = "send",
	[TCD_W_RECV] = "recv",
	[TCD_W_OTHER] = "other",
};

/*
 * About one slot per kretprobe instance that can register a thread: the
 * connect() and send()-for-connect pools are full only when that many
 * connects are blocked at once; past a full window a thread goes unnamed.
 */
int tcd_waiters_init(unsigned int slots)
{
	unsigned int n = roundup_pow_of_two(max(slots, 64U));

	tcd_waiters = vzalloc(array_size(n, sizeof(*tcd_waiters)));
	if (!tcd_waiters)
		return -ENOMEM;
	tcd_waiter_bits = ilog2(n);
	return 0;
}

void tcd_waiters_exit(void)
{
	vfree(tcd_waiters);
	tcd_waiters = NULL;
}

size_t tcd_waiters_bytes(void)
{
	return (sizeof(struct tcd_waiter)) << tcd_waiter_bits;
}

static struct tcd_waiter *tcd_waiter_slot(const void *sk, unsigned int i)
{
	return &tcd_waiters[(hash_ptr(sk, tcd_waiter_bits) + i) &
			    ((1U << tcd_waiter_bits) - 1)];
}

/*
 * Register current as blocked on @sk in wait @kind. Returns the slot index
 * for tcd_waiter_del(), or -1 when the window was full.
 */
int tcd_waiter_add(const struct sock *sk, enum tcd_wait_kind kind)
{
	struct tcd_waiter *w;
	unsigned int i;

	for (i = 0; i < TCD_WAITER_WINDOW; i++) {
		w = tcd_waiter_slot(sk, i);
		if (READ_ONCE(w->sk) || cmpxchg(&w->sk, NULL, TCD_WAITER_CLAIMED))
			continue;
		WRITE_ONCE(w->seq, w->seq + 1);
		smp_wmb();
		w->t.pid = current->pid;
		w->t.tgid = current->tgid;
		w->t.kind = kind;
		memcpy(w->t.comm, current->comm, TASK_COMM_LEN);
		WRITE_ONCE(w->t.reported, 0);
		smp_wmb();
		WRITE_ONCE(w->seq, w->seq + 1);
		smp_store_release(&w->sk, sk);
		return w - tcd_waiters;
	}
	tcd_count(TCD_C_WAITERS_UNRECORDED);
	return -1;
}

/* Release slot @idx; returns whether tcd_waiter_report() marked it. */
bool tcd_waiter_del(int idx)
{
	bool reported;

	if (idx < 0)
		return false;
	reported = READ_ONCE(tcd_waiters[idx].t.reported);
	smp_store_release(&tcd_waiters[idx].sk, NULL);
	return reported;
}

/* Copy slot @w's thread if it is blocked on @sk: false if not, or torn. */
static bool tcd_waiter_read(struct tcd_waiter *w, const struct sock *sk, struct tcd_thread *t)
{
	unsigned int seq;

	if (smp_load_acquire(&w->sk) != sk)
		return false;
	seq = READ_ONCE(w->seq);
	smp_rmb();
	*t = w->t;
	smp_rmb();
	/* Released, rewritten or being written meanwhile: not a thread of @sk. */
	return !(seq & 1) && READ_ONCE(w->seq) == seq && READ_ONCE(w->sk) == sk;
}

/*
 * Copy up to @max threads blocked on @sk, skipping @skip_pid (0: none),
 * threads in wait @first first. Returns how many are blocked in all.
 */
int tcd_waiters_of(const struct sock *sk, pid_t skip_pid, enum tcd_wait_kind first,
		   struct tcd_thread *out, int max)
{
	struct tcd_thread t;
	unsigned int i;
	int n = 0, total = 0;

	for (i = 0; i < TCD_WAITER_WINDOW; i++) {
		if (!tcd_waiter_read(tcd_waiter_slot(sk, i), sk, &t) || t.pid == skip_pid)
			continue;
		total++;
		tcd_thread_sanitize(&t);
		if (n && t.kind == first && out[0].kind != first) {
			/* The wanted kind goes in front, even when it came last. */
			if (n < max)
				out[n++] = out[0];
			out[0] = t;
		} else if (n < max) {
			out[n++] = t;
		}
	}
	return total;
}

/*
 * Copy the thread blocked on @sk in wait @kind and mark its slot, so that
 * its own return knows the failure was reported. A slot released and
 * reclaimed between the check and the mark costs at most one line.
 */
bool tcd_waiter_report(const struct sock *sk, enum tcd_wait_kind kind, struct tcd_thread *out)
{
	struct tcd_waiter *w;
	unsigned int i;

	for (i = 0; i < TCD_WAITER_WINDOW; i++) {
		w = tcd_waiter_slot(sk, i);
		if (!tcd_waiter_read(w, sk, out) || out->kind != kind)
			continue;
		WRITE_ONCE(w->t.reported, 1);
		tcd_thread_sanitize(out);
		return true;
	}
	return false;
}

/*
 * The waits: sk_stream_wait_connect() and sk_stream_wait_memory() for
 * send(), sk_wait_data() for recv(), all (sk, long *timeo, ...).
 */
struct tcd_wait_ri {
	struct sock *sk;
	u64 start_ns;
	int slot;
	u8 kind;
};

static int tcd_wait_entry(struct kretprobe_instance *ri, struct pt_regs *regs,
			  enum tcd_wait_kind kind)
{
	struct tcd_wait_ri *d = (void *)ri->data;
	long *timeo = (long *)tcd_arg(regs, 1);

	d->sk = (struct sock *)tcd_arg(regs, 0);
	/* A zero timeout returns at once: nobody is blocked. */
	if (!timeo || !*timeo || d->sk->sk_protocol != IPPROTO_TCP)
		return 1;
	d->start_ns = ktime_get_ns();
	d->kind = kind;
	d->slot = tcd_waiter_add(d->sk, kind);
	return 0;
}

static int tcd_wait_connect_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_WAIT_CONNECT);
	return tcd_wait_entry(ri, regs, TCD_W_SEND);
}

static int tcd_wait_memory_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_WAIT_MEMORY);
	return tcd_wait_entry(ri, regs, TCD_W_SEND);
}

static int tcd_wait_data_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	tcd_hit(TCD_P_WAIT_DATA);
	return tcd_wait_entry(ri, regs, TCD_W_RECV);
}

static int tcd_wait_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tcd_wait_ri *d = (void *)ri->data;

	tcd_waiter_del(d->slot);
	if ((int)regs_return_value(regs) == -EPIPE)
		tcd_waiter_epipe(d->sk, d->start_ns, d->kind);
	return 0;
}

static const struct tcd_probe_desc tcd_waiter_descs[] = {
	{
		.id = TCD_P_WAIT_CONNECT,
		.symbol = "sk_stream_wait_connect",
		.entry = tcd_wait_connect_entry,
		.ret = tcd_wait_ret,
		.data_size = sizeof(struct tcd_wait_ri),
		.pool = TCD_POOL_BLOCKING,
	},
	/*
	 * send() and recv() waits only name blocked threads: a smaller pool,
	 * so a server with many idle readers costs no more memory; waits
	 * beyond it go unnamed and nmissed counts them.
	 */
	{
		.id = TCD_P_WAIT_MEMORY,
		.symbol = "sk_stream_wait_memory",
		.entry = tcd_wait_memory_entry,
		.ret = tcd_wait_ret,
		.data_size = sizeof(struct tcd_wait_ri),
	},
	{
		.id = TCD_P_WAIT_DATA,
		.symbol = "sk_wait_data",
		.entry = tcd_wait_data_entry,
		.ret = tcd_wait_ret,
		.data_size = sizeof(struct tcd_wait_ri),
	},
};

const struct tcd_probe_set tcd_waiter_probes = {
	tcd_waiter_descs, ARRAY_SIZE(tcd_waiter_descs)
};
