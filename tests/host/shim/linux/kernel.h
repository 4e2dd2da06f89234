/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: min(), max() and the kernel's vsnprintf()/scnprintf(), whose
 * %pI4 and %pI6c print IPv4/IPv6 addresses (tests/host/shim/shim.c).
 */
#ifndef TCD_SHIM_KERNEL_H
#define TCD_SHIM_KERNEL_H
#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

int tcd_shim_vsnprintf(char *buf, size_t size, const char *fmt, va_list args);
__printf(3, 4) int tcd_shim_scnprintf(char *buf, size_t size, const char *fmt, ...);
#define vsnprintf tcd_shim_vsnprintf
#define scnprintf tcd_shim_scnprintf
#endif
