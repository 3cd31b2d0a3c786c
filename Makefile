# SPDX-License-Identifier: GPL-2.0
#
# guestmem: build the module, the library and the selftests; run them in the
# QEMU test VM.
#
#	make                      module (against KDIR), libguestmem, selftests, gmem,
#	                          examples
#	make check                the whole suite in the VM on 6.1, 6.12 and debug
#	make demo                 the user-mode DMA demo (examples/) in the VM
#	make bench                benchmarks vs their peers in the VM on 6.1 and 6.12
#	make vm                   boot the test VM to a shell with the module loaded
#	make install              install the module into /lib/modules/<KDIR's release>
#
# Options of make check: KERNELS="6.1 6.12 debug", IOMMU=on|off, TESTS=<names>,
# EXTRA_TESTS=<dir>, TEST_TIMEOUT=<s>, VM_TIMEOUT=<s>.  See README.md.
# Options of make bench: KERNELS, BENCH_ARGS=<gmbench options>, BENCH_ICOUNT=1.
# See Documentation/benchmarks.rst.

# The release: the module's MODULE_VERSION (kmod/Kbuild reads it from here),
# the library's file name and soname major, guestmem.pc and dkms.conf.
# CHANGELOG.md says what each release added.
VERSION := 1.0.0

# The kernel to build against: the running one's headers, or else the newest
# headers installed under /lib/modules.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		    $(lastword $(sort $(wildcard /lib/modules/*/build))))

export KERNELS IOMMU TESTS EXTRA_TESTS TEST_TIMEOUT VM_TIMEOUT DEMO BENCH_ARGS BENCH_ICOUNT

all: module userlib selftests gmem examples

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-amd64 or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userlib:
	$(MAKE) -C userlib

selftests: userlib
	$(MAKE) -C selftests

gmem:
	$(MAKE) -C tools/gmem

examples: userlib
	$(MAKE) -C examples

check:
	tools/vm/check.sh check

vm:
	tools/vm/check.sh vm

demo:
	tools/vm/check.sh demo

bench:
	tools/vm/check.sh bench

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	-test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userlib clean
	$(MAKE) -C selftests clean
	$(MAKE) -C bench clean
	$(MAKE) -C tools/gmem clean
	$(MAKE) -C examples clean
	rm -rf build

.PHONY: all module userlib selftests gmem examples check vm demo bench install clean
