/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: the one constant of <linux/sched.h> the pure code uses. */
#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif
