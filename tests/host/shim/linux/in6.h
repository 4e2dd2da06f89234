/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: struct in6_addr from the C library. */
#include <netinet/in.h>
