// SPDX-License-Identifier: GPL-2.0
/*
 * tcd-fail MODE [-6] [-n] [-s SYNCNT] [ARGS]: failed connects for the
 * connect-failed tests. One line per attempt, "attempt N mode=M err=ERR
 * tid=T sport=P dport=P", err being what the program saw: connect()'s
 * errno (blocking), or SO_ERROR after poll() (-n, non-blocking).
 *   refused COUNT        connects to a closed loopback port
 *   backlog              one connect (TCP_SYNCNT 1 unless -s) into a loopback
 *                        listener whose accept queue is full (backlog 0, one
 *                        connection queued and never accepted)
 *   to IP PORT [COUNT]   connects to IP:PORT
 *   ok COUNT             successful connects to a loopback listener
 *   inprog IP PORT MS    a non-blocking connect left in progress MS ms, closed
 *   storm COUNT          COUNT blocking refused connects, then one summary
 *                        line "storm count=N refused=N"
 *   denied CGROUP        attaches a cgroup BPF connect4 program that refuses
 *                        every connect to the cgroup2 directory CGROUP, moves
 *                        itself there and connects to a loopback listener
 *                        (EPERM); "bpf err=E" if the kernel has no such hook
 *   badfamily            connect() of an IPv4 socket to an AF_INET6 address:
 *                        EAFNOSUPPORT from tcp_v4_connect() (an ordinary bug)
 */
#include "tcdlib.h"
#include <fcntl.h>
#include <poll.h>
#include <linux/bpf.h>

static int nonblock, syncnt;

/* One attempt on a fresh socket; returns the errno the program saw. */
static int attempt(int family, const char *ip, int port, int *sportp)
{
	int fd = tcd_socket(family, syncnt), err, soerr = 0;
	socklen_t len = sizeof(soerr);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	err = tcd_connect(fd, family, ip, port);
	if (nonblock && err == EINPROGRESS) {
		if (poll(&pfd, 1, 200000) != 1)
			die("poll");
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
			die("SO_ERROR");
		err = soerr;
	}
	*sportp = tcd_port_of(fd);
	close(fd);
	return err;
}

/*
 * A BPF_PROG_TYPE_CGROUP_SOCK_ADDR program "r0 = 0; exit" (refuse) on the
 * cgroup directory @cg's BPF_CGROUP_INET4_CONNECT hook; 0 or an errno.
 */
static int deny_connects(const char *cg)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int prog, cgfd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	a.expected_attach_type = BPF_CGROUP_INET4_CONNECT;
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	prog = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog < 0)
		return errno;
	cgfd = open(cg, O_RDONLY | O_DIRECTORY);
	if (cgfd < 0)
		return errno;
	memset(&a, 0, sizeof(a));
	a.target_fd = cgfd;
	a.attach_bpf_fd = prog;
	a.attach_type = BPF_CGROUP_INET4_CONNECT;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)))
		return errno;
	return 0;
}

/* Move this process into the cgroup2 directory @cg. */
static void enter_cgroup(const char *cg)
{
	char path[512], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, pid, n) != n)
		die("cgroup.procs");
	close(fd);
}

static void report(int i, int err, int sport, int dport)
{
	printf("attempt %d mode=%s err=%s tid=%d sport=%d dport=%d\n", i,
	       nonblock ? "nonblocking" : "blocking", errname(err), tcd_gettid(), sport, dport);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int family = AF_INET, i, n = 0, port, lfd, sport, err;
	const char *mode, *pos[4];

	if (argc < 2) {
		fprintf(stderr, "usage: tcd-fail refused|backlog|to|ok|inprog|storm|denied|badfamily [-6] [-n] [-s N] ARGS\n");
		return 2;
	}
	mode = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			family = AF_INET6;
		else if (!strcmp(argv[i], "-n"))
			nonblock = 1;
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			syncnt = atoi(argv[++i]);
		else if (n < 4)
			pos[n++] = argv[i];
	}
	if (!strcmp(mode, "refused") || !strcmp(mode, "storm")) {
		int count = n ? atoi(pos[0]) : 1, refused = 0;

		lfd = tcd_listen(family, 0, 1, &port);
		close(lfd);	/* the port is now closed: RST */
		for (i = 0; i < count; i++) {
			err = attempt(family, NULL, port, &sport);
			refused += err == ECONNREFUSED;
			if (!strcmp(mode, "refused"))
				report(i, err, sport, port);
		}
		if (!strcmp(mode, "storm"))
			printf("storm count=%d refused=%d\n", count, refused);
	} else if (!strcmp(mode, "backlog")) {
		if (!syncnt)
			syncnt = 1;
		lfd = tcd_full_listener(family, &port);
		err = attempt(family, NULL, port, &sport);
		report(0, err, sport, port);
		close(lfd);
	} else if (!strcmp(mode, "to") && n >= 2) {
		int count = n > 2 ? atoi(pos[2]) : 1;

		port = atoi(pos[1]);
		for (i = 0; i < count; i++) {
			err = attempt(family, pos[0], port, &sport);
			report(i, err, sport, port);
		}
	} else if (!strcmp(mode, "ok")) {
		int count = n ? atoi(pos[0]) : 1;

		lfd = tcd_listen(family, 0, 1024, &port);
		for (i = 0; i < count; i++) {
			int c;

			err = attempt(family, NULL, port, &sport);
			report(i, err, sport, port);
			c = accept(lfd, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	} else if (!strcmp(mode, "inprog") && n >= 3) {
		int fd = tcd_socket(family, 0);

		fcntl(fd, F_SETFL, O_NONBLOCK);
		err = tcd_connect(fd, family, pos[0], atoi(pos[1]));
		usleep(atoi(pos[2]) * 1000);
		printf("inprog err=%s tid=%d sport=%d\n", errname(err), tcd_gettid(),
		       tcd_port_of(fd));
		close(fd);
	} else if (!strcmp(mode, "denied") && n >= 1) {
		lfd = tcd_listen(AF_INET, 0, 16, &port);
		err = deny_connects(pos[0]);
		if (err) {
			printf("bpf err=%s\n", errname(err));
			return 1;
		}
		enter_cgroup(pos[0]);
		err = attempt(AF_INET, NULL, port, &sport);
		report(0, err, sport, port);
		close(lfd);
	} else if (!strcmp(mode, "badfamily")) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
		int fd = tcd_socket(AF_INET, 0);

		sin6.sin6_addr = in6addr_loopback;
		if (nonblock)
			fcntl(fd, F_SETFL, O_NONBLOCK);
		err = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) ? errno : 0;
		report(0, err, tcd_port_of(fd), 9);
		close(fd);
	} else {
		fprintf(stderr, "tcd-fail: bad mode or arguments\n");
		return 2;
	}
	return 0;
}
