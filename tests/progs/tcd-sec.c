// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-sec: /proc/tcpconndiag access with chosen credentials, for the security
 * tests (issue 4).
 *
 * tcd-sec [-U] [-n] [-O] [-C] [-u UID] [-f FILE] OP [ARGS...]
 *   -U       unshare(CLONE_NEWUSER) first, mapping uid and gid 0 to 0: root
 *            with every capability in a new user namespace, none outside it
 *   -n       unshare(CLONE_NEWNET) (after -U: a namespace that user
 *            namespace owns): a fresh, empty network namespace
 *   -O       open FILE for writing before dropping privileges ("write" then
 *            uses that descriptor: an fd passed from root to a weaker process)
 *   -C       drop CAP_NET_ADMIN (bounding, effective, permitted, inheritable,
 *            ambient) but stay uid 0, so the file still opens
 *   -u UID   setgroups(none), setgid(UID), setuid(UID)
 *   -f FILE  the file (default /proc/tcpconndiag)
 * OPs (each ends with one line "result op=OP err=ERRNAME ret=N" on stdout;
 * exit 0 when the operation succeeded, 1 when it failed):
 *   read OUT          open read-only, copy the whole file to OUT ("-": stdout)
 *   write STRING      one write() of STRING after C unescaping (\n \t \\ \0 \xHH);
 *                     an empty STRING is a zero-length write
 *   write-fill C N    one write() of N bytes, all C
 *   write-efault      write() of 5 bytes from an unmapped address
 *   netns             print "netns inode=N" (the namespace this process is in)
 *                     and "netns cookie=N" (SO_NETNS_COOKIE, 5.14+; else "none")
 *   exec CMD ARGS...  exec CMD with the credentials set up (no result line)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path = "/proc/tcpconndiag";
static int early_fd = -1;

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

static int result(const char *op, int err, long ret)
{
	printf("result op=%s err=%s ret=%ld\n", op, ename(err), ret);
	fflush(stdout);
	return err ? 1 : 0;
}

static void fatal(const char *what)
{
	fprintf(stderr, "tcd-sec: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int idx = CAP_NET_ADMIN / 32;
	unsigned int bit = 1u << (CAP_NET_ADMIN % 32);

	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0))
		fatal("PR_CAPBSET_DROP");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &h, d))
		fatal("capget");
	d[idx].effective &= ~bit;
	d[idx].permitted &= ~bit;
	d[idx].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d))
		fatal("capset");
}

static void write_file(const char *file, const char *s)
{
	int fd = open(file, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		fatal(file);
	close(fd);
}

/* A new user namespace where we stay uid/gid 0 (mapped to 0 outside). */
static void new_userns(void)
{
	if (unshare(CLONE_NEWUSER))
		fatal("unshare(CLONE_NEWUSER)");
	write_file("/proc/self/setgroups", "deny");
	write_file("/proc/self/uid_map", "0 0 1");
	write_file("/proc/self/gid_map", "0 0 1");
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* C-style unescaping; returns the length. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[n++] = '\n'; s++; break;
		case 't': out[n++] = '\t'; s++; break;
		case '0': out[n++] = '\0'; s++; break;
		case 'x': {
			char hex[3] = { 0 };

			s++;
			hex[0] = *s ? *s++ : '0';
			hex[1] = *s ? *s++ : '0';
			out[n++] = (char)strtol(hex, NULL, 16);
			break;
		}
		default: out[n++] = *s++; break;
		}
	}
	return n;
}

static int open_for_write(void)
{
	return early_fd >= 0 ? early_fd : open(path, O_WRONLY);
}

static int do_write(const char *op, const void *buf, size_t len)
{
	int fd = open_for_write();
	ssize_t r;

	if (fd < 0)
		return result("open-write", errno, -1);
	r = write(fd, buf, len);
	if (r < 0)
		return result(op, errno, -1);
	return result(op, 0, r);
}

int main(int argc, char **argv)
{
	int opt, do_netns = 0, do_userns = 0, open_early = 0, no_net_admin = 0;
	long uid = -1;
	const char *op;

	while ((opt = getopt(argc, argv, "+UnOCu:f:")) != -1) {
		switch (opt) {
		case 'U': do_userns = 1; break;
		case 'n': do_netns = 1; break;
		case 'O': open_early = 1; break;
		case 'C': no_net_admin = 1; break;
		case 'u': uid = atol(optarg); break;
		case 'f': path = optarg; break;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	op = argv[optind++];

	if (do_userns)
		new_userns();
	if (do_netns && unshare(CLONE_NEWNET))
		fatal("unshare(CLONE_NEWNET)");
	if (open_early) {
		early_fd = open(path, O_WRONLY);
		if (early_fd < 0)
			return result("open-write", errno, -1);
	}
	if (no_net_admin)
		drop_net_admin();
	if (uid >= 0) {
		if (setgroups(0, NULL) || setgid((gid_t)uid) || setuid((uid_t)uid))
			fatal("setuid");
	}

	if (!strcmp(op, "read") && optind < argc) {
		const char *out = argv[optind];
		FILE *o = strcmp(out, "-") ? fopen(out, "w") : stdout;
		char buf[4096];
		long total = 0;
		ssize_t r;
		int fd;

		if (!o)
			fatal(out);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return result("open-read", errno, -1);
		while ((r = read(fd, buf, sizeof(buf))) > 0) {
			fwrite(buf, 1, r, o);
			total += r;
		}
		if (o != stdout)
			fclose(o);
		return result("read", r < 0 ? errno : 0, total);
	}
	if (!strcmp(op, "write") && optind < argc) {
		char *buf = malloc(strlen(argv[optind]) + 1);
		size_t len = unescape(argv[optind], buf);

		return do_write("write", buf, len);
	}
	if (!strcmp(op, "write-fill") && optind + 1 < argc) {
		size_t n = strtoul(argv[optind + 1], NULL, 0);
		char *buf = malloc(n + 1);

		memset(buf, argv[optind][0], n);
		return do_write("write", buf, n);
	}
	if (!strcmp(op, "write-efault"))
		return do_write("write", (const void *)16, 5);
	if (!strcmp(op, "netns")) {
		struct stat st;

		if (stat("/proc/self/ns/net", &st))
			fatal("stat /proc/self/ns/net");
		printf("netns inode=%lu\n", (unsigned long)st.st_ino);
		{
			unsigned long long cookie = 0;
			socklen_t len = sizeof(cookie);
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			if (fd >= 0 && !getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
				printf("netns cookie=%llu\n", cookie);
			else
				printf("netns cookie=none\n");
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	if (!strcmp(op, "exec") && optind < argc) {
		execvp(argv[optind], argv + optind);
		fatal(argv[optind]);
	}
usage:
	fprintf(stderr, "usage: tcd-sec [-U] [-n] [-O] [-C] [-u UID] [-f FILE] "
			"read OUT|write STR|write-fill C N|write-efault|netns|exec CMD...\n");
	return 2;
}
