/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: time_after() as <linux/jiffies.h> defines it (wrap-safe). */
#ifndef TCD_SHIM_JIFFIES_H
#define TCD_SHIM_JIFFIES_H
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#endif
