# SPDX-License-Identifier: GPL-2.0
#
# tcpconndiag. The module build itself is in Kbuild; this file drives it and
# the QEMU lab. See README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build
KVERS := 5.10 6.1 6.12
PWD := $(shell pwd)

.PHONY: all modules clean deps kernels modules-all sparse check demo bench \
	install dkms-install

all: modules

# Against the running kernel, or any tree: make KDIR=/path/to/build
modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf build

deps:
	scripts/deps.sh

kernels: deps
	scripts/fetch-kernel.sh all

# The three Debian kernels, warnings as errors.
modules-all: kernels
	@for v in $(KVERS); do scripts/build-module.sh $$v >build/build-$$v.log 2>&1 \
		|| { cat build/build-$$v.log; exit 1; }; \
		echo "built build/$$v/tcpconndiag.ko"; done

# sparse on every kernel; any warning in our sources fails.
sparse: kernels
	scripts/sparse-check.sh $(KVERS)

check: modules-all sparse
	tests/run.sh $(KVERS)

demo: kernels
	scripts/demo.sh $(or $(KVER),5.10)

bench: kernels
	scripts/bench.sh $(or $(KVER),6.1)

# On a real target: build against the running kernel and install.
install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install
	depmod -a

dkms-install:
	scripts/dkms-install.sh
