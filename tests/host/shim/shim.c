// SPDX-License-Identifier: GPL-2.0
/*
 * Host shim: the kernel's vsnprintf() for the conversions the pure code
 * uses, plus %pI4 and %pI6c (printed with inet_ntop(), which compresses
 * IPv6 as RFC 5952 does, like the kernel). Anything else aborts: a test
 * must not pass on a conversion the shim gets wrong.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kernel.h>

#undef vsnprintf

struct out {
	char *s;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = realloc(o->s, o->cap);
		if (!o->s)
			abort();
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

int tcd_shim_vsnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	struct out o = { NULL, 0, 0 };
	const char *p = fmt;
	char tmp[128], spec[32];
	int n;

	put(&o, "", 0);
	while (*p) {
		const char *s = p;
		enum { L_INT, L_HH, L_H, L_L, L_LL, L_Z } lm = L_INT;

		if (*p != '%') {
			put(&o, p++, 1);
			continue;
		}
		if (p[1] == '%') {
			put(&o, "%", 1);
			p += 2;
			continue;
		}
		p++;
		while (*p && strchr("-+ #0", *p))
			p++;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (p[0] == 'h' && p[1] == 'h') {
			lm = L_HH;
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'l') {
			lm = L_LL;
			p += 2;
		} else if (*p == 'h') {
			lm = L_H;
			p++;
		} else if (*p == 'l') {
			lm = L_L;
			p++;
		} else if (*p == 'z') {
			lm = L_Z;
			p++;
		}
		if (p - s + 2 > (long)sizeof(spec))
			abort();
		memcpy(spec, s, p - s + 1);
		spec[p - s + 1] = '\0';
		switch (*p++) {
		case 'd':
		case 'i':
			if (lm == L_LL)
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, long long));
			else if (lm == L_L || lm == L_Z)
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, long));
			else
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, int));
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lm == L_LL)
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, unsigned long long));
			else if (lm == L_L || lm == L_Z)
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, unsigned long));
			else
				n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, unsigned int));
			break;
		case 'c':
			n = snprintf(tmp, sizeof(tmp), spec, va_arg(args, int));
			break;
		case 's': {
			const char *str = va_arg(args, const char *);
			int need = snprintf(NULL, 0, spec, str);
			char *big = malloc(need + 1);

			snprintf(big, need + 1, spec, str);
			put(&o, big, need);
			free(big);
			continue;
		}
		case 'p':
			if (p - s != 2)	/* no flags or width on %p here */
				abort();
			if (p[0] == 'I' && p[1] == '4') {
				inet_ntop(AF_INET, va_arg(args, const void *), tmp, sizeof(tmp));
				p += 2;
			} else if (p[0] == 'I' && p[1] == '6' && p[2] == 'c') {
				inet_ntop(AF_INET6, va_arg(args, const void *), tmp, sizeof(tmp));
				p += 3;
			} else {
				abort();
			}
			n = strlen(tmp);
			break;
		default:
			abort();
		}
		if (n < 0 || n >= (int)sizeof(tmp))
			abort();
		put(&o, tmp, n);
	}
	n = o.len;
	if (size) {
		size_t k = o.len < size - 1 ? o.len : size - 1;

		memcpy(buf, o.s, k);
		buf[k] = '\0';
	}
	free(o.s);
	return n;
}

/* The kernel's scnprintf(): what was written, not what would have been. */
int tcd_shim_scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = tcd_shim_vsnprintf(buf, size, fmt, args);
	va_end(args);
	if ((size_t)n < size)
		return n;
	return size ? size - 1 : 0;
}
