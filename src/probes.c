// SPDX-License-Identifier: GPL-2.0
/*
 * Probe registration and statistics. Each diagnosis describes the probes it
 * needs in its own table (struct tcd_probe_desc); this file registers them
 * all, keeps their per-CPU hit counters, and unregisters them in one batch
 * per kind: one RCU grace period for the kretprobes, one for the kprobes,
 * one for the tracepoints. Tracepoints come first and go last: they clean
 * up rows (socket destruction), which any other probe may create.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include "tcd.h"

DEFINE_PER_CPU(unsigned long[TCD_P_NR], tcd_hits);

static const struct tcd_probe_set *const tcd_sets[] = {
	&tcd_connect_probes,
	&tcd_poison_probes,
	&tcd_saddr_probes,
	&tcd_waiter_probes,
	&tcd_failed_probes,
};

/* One registered probe: a kretprobe, a tracepoint probe or a kprobe. */
struct tcd_probe {
	const struct tcd_probe_desc *desc;
	struct kretprobe rp;
	struct kprobe kp;
	struct tracepoint *tp;
	bool registered;
};

static struct tcd_probe *tcd_probes;
static unsigned int tcd_nr_probes;

int tcd_probe_count(void)
{
	return tcd_nr_probes;
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
	const struct tcd_probe *p = &tcd_probes[idx];

	st->symbol = p->desc->symbol;
	st->hits = tcd_sum_hits(p->desc->id);
	st->registered = p->registered;
	st->tracepoint = p->desc->tp;
	if (p->desc->tp) {
		/* A tracepoint calls its probes directly: nothing is ever missed. */
		st->nmissed = 0;
		st->maxactive = 0;
	} else if (p->desc->ret) {
		/* Missed entries (kprobe busy) plus returns with no free instance. */
		st->nmissed = p->rp.nmissed + p->rp.kp.nmissed;
		st->maxactive = p->rp.maxactive;
	} else {
		st->nmissed = p->kp.nmissed;
		st->maxactive = 0;
	}
}

/* Preallocated kretprobe instances (before slab rounding). */
size_t tcd_probe_instance_bytes(void)
{
	size_t sum = 0;
	unsigned int i;

	for (i = 0; i < tcd_nr_probes; i++)
		if (tcd_probes[i].desc->ret)
			sum += (size_t)tcd_probes[i].rp.maxactive *
			       (sizeof(struct kretprobe_instance) + tcd_probes[i].rp.data_size);
	return sum;
}

void tcd_reset_probe_hits(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&tcd_hits, cpu), 0, sizeof(tcd_hits));
}

void tcd_probes_unregister(void)
{
	struct kretprobe **rps;
	struct kprobe **kps;
	unsigned int i, nr = 0, nk = 0;
	bool tps = false;

	if (!tcd_probes)
		return;
	rps = kcalloc(tcd_nr_probes, sizeof(*rps), GFP_KERNEL);
	kps = kcalloc(tcd_nr_probes, sizeof(*kps), GFP_KERNEL);
	for (i = 0; i < tcd_nr_probes; i++) {
		struct tcd_probe *p = &tcd_probes[i];

		if (!p->registered || p->desc->tp)
			continue;
		if (rps && kps) {
			if (p->desc->ret)
				rps[nr++] = &p->rp;
			else
				kps[nk++] = &p->kp;
		} else if (p->desc->ret) {	/* no memory for the batch: one by one */
			unregister_kretprobe(&p->rp);
		} else {
			unregister_kprobe(&p->kp);
		}
		p->registered = false;
	}
	if (nr)
		unregister_kretprobes(rps, nr);
	if (nk)
		unregister_kprobes(kps, nk);
	for (i = 0; i < tcd_nr_probes; i++) {
		struct tcd_probe *p = &tcd_probes[i];

		if (!p->registered)
			continue;
		tracepoint_probe_unregister(p->tp, p->desc->tp, NULL);
		p->registered = false;
		tps = true;
	}
	/* Until no CPU runs a tracepoint probe of ours: then the module may go. */
	if (tps)
		tracepoint_synchronize_unregister();
	kfree(rps);
	kfree(kps);
	kfree(tcd_probes);
	tcd_probes = NULL;
	tcd_nr_probes = 0;
}

struct tcd_tp_find {
	const char *name;
	struct tracepoint *tp;
};

static void tcd_tp_match(struct tracepoint *tp, void *priv)
{
	struct tcd_tp_find *f = priv;

	if (!f->tp && !strcmp(tp->name, f->name))
		f->tp = tp;
}

static int tcd_probe_register(struct tcd_probe *p)
{
	const struct tcd_probe_desc *d = p->desc;

	if (d->tp) {
		/* Tracepoints are not exported by name: find it among the kernel's. */
		struct tcd_tp_find f = { .name = d->symbol };

		for_each_kernel_tracepoint(tcd_tp_match, &f);
		if (!f.tp)
			return -ENOENT;
		p->tp = f.tp;
		return tracepoint_probe_register(f.tp, d->tp, NULL);
	}
	if (!d->ret) {
		p->kp.symbol_name = d->symbol;
		p->kp.pre_handler = d->pre;
		return register_kprobe(&p->kp);
	}
	p->rp.kp.symbol_name = d->symbol;
	p->rp.entry_handler = d->entry;
	p->rp.handler = d->ret;
	p->rp.data_size = d->data_size;
	p->rp.maxactive = d->pool == TCD_POOL_BLOCKING ? tcd_maxactive : tcd_maxactive_short;
	return register_kretprobe(&p->rp);
}

int tcd_probes_register(void)
{
	unsigned int i, j, n = 0;
	int err;

	for (i = 0; i < ARRAY_SIZE(tcd_sets); i++)
		n += tcd_sets[i]->n;
	tcd_probes = kcalloc(n, sizeof(*tcd_probes), GFP_KERNEL);
	if (!tcd_probes)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(tcd_sets); i++)
		for (j = 0; j < tcd_sets[i]->n; j++)
			tcd_probes[tcd_nr_probes++].desc = &tcd_sets[i]->descs[j];
	/* Pass 0 registers the tracepoints, pass 1 the rest. */
	for (i = 0; i < 2 * tcd_nr_probes; i++) {
		struct tcd_probe *p = &tcd_probes[i % tcd_nr_probes];

		if ((p->desc->tp ? 0 : 1) != i / tcd_nr_probes)
			continue;
		err = tcd_probe_register(p);
		if (err && p->desc->optional) {
			pr_info("%s not probed (error %d, %s): its part of the diagnosis is off\n",
				p->desc->symbol, err, tcd_errname(err));
			continue;
		}
		if (err) {
			pr_err("cannot probe %s: error %d (%s); not loaded\n", p->desc->symbol,
			       err, tcd_errname(err));
			tcd_probes_unregister();
			return err;
		}
		p->registered = true;
	}
	return 0;
}
