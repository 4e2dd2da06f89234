/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: the kernel's fixed-width types and the attributes we use. */
#ifndef TCD_SHIM_TYPES_H
#define TCD_SHIM_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
typedef uint32_t __be32;
typedef uint16_t __be16;

#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif
