# SPDX-License-Identifier: GPL-2.0
#
# tcpconndiag. The module build itself is in Kbuild; this file drives it and
# the QEMU lab. See README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build
# The kernel matrix, lab/kernels.conf. Override for a subset:
#   make check KVERS="5.10 6.1"
ifeq ($(origin KVERS),undefined)
KVERS := $(shell lab/matrix.sh names)
endif
ifeq ($(strip $(KVERS)),)
$(error no kernels: lab/kernels.conf unreadable or empty (lab/matrix.sh names))
endif
PWD := $(shell pwd)

.PHONY: all modules clean deps kernels modules-all sparse check demo bench \
	install dkms-install host-tests deb pkg-test debug-kernel check-debug

all: modules

# Against the running kernel, or any tree: make KDIR=/path/to/build
modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build

deps:
	lab/deps.sh

kernels: deps
	lab/fetch-kernel.sh $(KVERS)

# Every matrix kernel, warnings as errors.
modules-all: kernels
	@mkdir -p build
	@for v in $(KVERS); do lab/build-module.sh $$v >build/build-$$v.log 2>&1 \
		|| { cat build/build-$$v.log; exit 1; }; \
		echo "built build/$$v/tcpconndiag.ko"; done

# sparse on every kernel; any warning in our sources fails.
sparse: kernels
	lab/sparse-check.sh $(KVERS)

# Host-side tests: modinfo of build/6.1's module, the Prometheus exporter.
host-tests: modules-all
	tests/host/run.sh

# Debian packages (debian/): tcpconndiag-dkms and tcpconndiag, built from a
# clean copy of the tree in build/deb/, then lintian (lab/deb.sh).
deb:
	lab/deb.sh

# The package test (root, Debian 12): make deb, apt-get install the .debs
# with the 6.1 guest kernel's headers, boot the module DKMS built there in
# the 6.1 guest, then remove and purge (lab/pkg-test.sh).
pkg-test: kernels
	lab/pkg-test.sh

# Every guest test, with the host tests and the package test beside them
# (the guests' first phase mostly waits on TCP timers, so the 130 s these take
# come for free); a failure in one does not stop the others. run.sh waits for
# them and shows their output before its summary. The last line, "N passed,
# N failed", counts all of them.
check: modules-all sparse
	@mkdir -p build/logs && rm -f build/logs/host.result build/logs/pkg.result
	{ tests/host/run.sh --result build/logs/host.result; \
		TCD_OUT=$${TCD_OUT:+$$TCD_OUT/pkg} lab/pkg-test.sh --result build/logs/pkg.result; \
		} >build/logs/side.out 2>&1 & \
	TCD_EXTRA_RESULTS="host=build/logs/host.result pkg=build/logs/pkg.result" \
		TCD_EXTRA_WAIT="$$!:build/logs/side.out" tests/run.sh $(KVERS)

# The debug kernel (lab/kernels-debug.conf, built by lab/debug-kernel.sh from
# Debian's linux-source-6.12: PREEMPT_RT, KASAN, lockdep, kmemleak,
# DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS). Not part of check: cold, the build
# alone takes long (README). check-debug runs the whole guest suite on it,
# with a kmemleak scan after rmmod; any checker report fails. The module
# comes from DEBUG_SRC (default: this tree), e.g. a colleague's checkout.
DEBUG_KVER := $(firstword $(shell lab/matrix.sh debug-names))
DEBUG_SRC ?= $(PWD)
debug-kernel: deps
	lab/debug-kernel.sh $(DEBUG_KVER)

check-debug: debug-kernel
	@mkdir -p build
	@lab/build-module.sh $(DEBUG_KVER) $(DEBUG_SRC) $(PWD)/build/$(DEBUG_KVER) \
		>build/build-$(DEBUG_KVER).log 2>&1 || { cat build/build-$(DEBUG_KVER).log; exit 1; }
	@echo "built build/$(DEBUG_KVER)/tcpconndiag.ko from $(DEBUG_SRC)"
	tests/run.sh $(DEBUG_KVER)

# KVER: one matrix kernel, several ("5.10 7.3") or all; the scripts know
# their defaults (5.10 and 6.1) and fetch only the kernels they boot.
demo: deps
	lab/demo.sh $(KVER)

bench: deps
	lab/bench.sh $(KVER)

# On a real target: build against the running kernel and install.
install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install
	depmod -a

dkms-install:
	tools/dkms-install.sh
