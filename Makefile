# SPDX-License-Identifier: GPL-2.0
#
# guestmem: build the module, the library and the selftests; run them in the
# QEMU test VM; install them.
#
#	make                      module (against KDIR), libguestmem, selftests, gmem,
#	                          examples
#	make check                packaging checks on the host (tools/pkg/check.sh),
#	                          then the whole suite in the VM on 6.1, 6.12,
#	                          debug (7.3) and arm64 (7.3 behind an SMMUv3)
#	make check-pkg            only the packaging checks
#	make demo                 the user-mode DMA demo (examples/) in the VM
#	make bench                benchmarks vs their peers in the VM on 6.1 and 6.12
#	make fuzz                 the ioctl fuzzer (tools/fuzz/) alone in the VM, on debug
#	make vm                   boot the test VM to a shell with the module loaded
#	make install              the module (into /lib/modules/<KDIR's release>/extra/kmod),
#	                          libguestmem, its headers and guestmem.pc, gmem, the
#	                          man pages, the udev rule and the sysusers file
#	make uninstall            remove what make install installed
#	make dkms-install         the module's sources into /usr/src/guestmem-VERSION,
#	                          then dkms add, build and install (dkms-remove: undo)
#
# Install options: DESTDIR, PREFIX (/usr/local), LIBDIR, INCLUDEDIR, SBINDIR,
# MANDIR, UDEVRULESDIR, SYSUSERSDIR, KDIR.  make install-module and
# make install-user do each half.  See README.md, "Installing".
#
# Options of make check: KERNELS="6.1 6.12 debug arm64" (arm64-64k on
# request), IOMMU=on|off|amd|virtio, TESTS=<names>, EXTRA_TESTS=<dir>, TEST_TIMEOUT=<s>,
# VM_TIMEOUT=<s>.  See README.md.
#
# Cross builds: make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- KDIR=<arm64
# tree> builds the module in place and user space under build/arm64/ (gmem
# also needs MNL_CFLAGS/MNL_LIBS for the target's libmnl).
# Options of make bench: KERNELS, BENCH_ARGS=<gmbench options>, BENCH_ICOUNT=1.
# See Documentation/benchmarks.rst.
# Options of make fuzz: OPS=<operations>, SEED=<seed>, THREADS=<n>, KERNELS
# (default debug), IOMMU, VM_TIMEOUT, FUZZ_ARGS=<gmfuzz options>.  See
# Documentation/testing.rst.

# The release: the module's MODULE_VERSION (kmod/Kbuild reads it from here),
# the library's file name and soname major, guestmem.pc and dkms.conf.
# CHANGELOG.md says what each release added.
VERSION := 1.1.0

# The kernel to build against: the running one's headers, or else the newest
# headers installed under /lib/modules.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		    $(lastword $(sort $(wildcard /lib/modules/*/build))))
# Its release as modules see it (Debian's kernel.release file says 6.1.192
# where the kernel says 6.1.0-57-amd64).
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# udev and systemd-sysusers read /usr/local/lib/... as well as /usr/lib/...
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# Where make install puts the module: /lib/modules/<release>/$(MODDIR)/kmod/
# (modules_install keeps the directory the module is built in).
MODDIR ?= extra
# modules_install signs only where the kernel tree has its signing key (a
# kernel built here): a distribution's key is not public, and sign-file would
# only complain.  For Secure Boot, DKMS signs with its MOK key.
SIGN_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="*\([^"]*\)"*$$/\1/p' \
		$(KDIR)/include/config/auto.conf 2>/dev/null)
NOSIGN = $(if $(filter pkcs11:%,$(SIGN_KEY))$(wildcard $(SIGN_KEY) $(KDIR)/$(SIGN_KEY)),, \
	    CONFIG_MODULE_SIG_ALL=)

export KERNELS IOMMU TESTS EXTRA_TESTS TEST_TIMEOUT VM_TIMEOUT DEMO BENCH_ARGS BENCH_ICOUNT \
	OPS SEED THREADS FUZZ_ARGS

# Cross-built user space goes under build/<ARCH>/, apart from the native one.
ifneq ($(CROSS_COMPILE),)
XDIR := $(CURDIR)/build/$(or $(ARCH),cross)
xout = OUTPUT=$(XDIR)/$(1) USERLIB_OUTPUT=$(XDIR)/userlib
endif

all: module userlib selftests gmem examples

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-amd64 or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userlib:
	$(MAKE) -C userlib $(if $(XDIR),OUTPUT=$(XDIR)/userlib)

selftests: userlib
	$(MAKE) -C selftests $(call xout,selftests)

gmem:
	$(MAKE) -C tools/gmem $(if $(XDIR),OUTPUT=$(XDIR)/gmem)

examples: userlib
	$(MAKE) -C examples $(call xout,examples)

check: check-pkg
	tools/vm/check.sh check

check-pkg:
	tools/pkg/check.sh

vm:
	tools/vm/check.sh vm

demo:
	tools/vm/check.sh demo

bench:
	tools/vm/check.sh bench

fuzz:
	tools/vm/check.sh fuzz

fuzzer:
	$(MAKE) -C tools/fuzz

install: install-module install-user

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(MODDIR) DEPMOD=true $(NOSIGN) modules_install
	$(if $(DESTDIR),,depmod -a $(KRELEASE))

install-user: userlib gmem
	$(MAKE) -C userlib install
	$(MAKE) -C tools/gmem install SBINDIR=$(SBINDIR)
	$(MAKE) -C Documentation/man install MANDIR=$(MANDIR)
	install -D -m 644 udev/60-guestmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-guestmem.rules
	install -D -m 644 udev/guestmem.sysusers $(DESTDIR)$(SYSUSERSDIR)/guestmem.conf
	$(if $(DESTDIR),,-systemd-sysusers $(SYSUSERSDIR)/guestmem.conf)
	$(if $(DESTDIR),,-udevadm control --reload)

# DKMS: the sources dkms.conf builds, as a guestmem-dkms package ships them
# (with DESTDIR: only that), then dkms add, build and install for the
# running kernel, or for DKMS_KERNEL.  DKMS and DKMS_SRCTREE let a test use
# private trees: DKMS="dkms --dkmstree T/lib --sourcetree T/src
# --installtree T/modules" DKMS_SRCTREE=T/src (see README.md).
DKMS ?= dkms
DKMS_SRCTREE ?= /usr/src
DKMS_SRC = $(DESTDIR)$(DKMS_SRCTREE)/guestmem-$(VERSION)
DKMS_KERNEL ?=

dkms-source:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	tar -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude='*.o.d' --exclude=modules.order \
		--exclude=Module.symvers --exclude=test Makefile Kbuild kmod uapi | \
		tar -x -C $(DKMS_SRC)
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf

dkms-install: dkms-source
	$(if $(DESTDIR),,$(DKMS) add -m guestmem -v $(VERSION))
	$(if $(DESTDIR),,$(DKMS) build -m guestmem -v $(VERSION) $(addprefix -k ,$(DKMS_KERNEL)))
	$(if $(DESTDIR),,$(DKMS) install -m guestmem -v $(VERSION) $(addprefix -k ,$(DKMS_KERNEL)))

dkms-remove:
	-$(DKMS) remove -m guestmem -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

uninstall: uninstall-module uninstall-user

uninstall-module:
	@test -n "$(KRELEASE)" || { echo "no kernel release: set KDIR"; exit 1; }
	rm -f $(DESTDIR)/lib/modules/$(KRELEASE)/$(MODDIR)/kmod/guestmem.ko*
	-rmdir $(DESTDIR)/lib/modules/$(KRELEASE)/$(MODDIR)/kmod
	$(if $(DESTDIR),,depmod -a $(KRELEASE))

uninstall-user:
	$(MAKE) -C userlib uninstall
	$(MAKE) -C tools/gmem uninstall SBINDIR=$(SBINDIR)
	$(MAKE) -C Documentation/man uninstall MANDIR=$(MANDIR)
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-guestmem.rules $(DESTDIR)$(SYSUSERSDIR)/guestmem.conf

clean-module:
	-test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) \
		GM_KTEST=$(if $(wildcard kmod/test),1) clean

clean: clean-module
	$(MAKE) -C userlib clean
	$(MAKE) -C selftests clean
	$(MAKE) -C bench clean
	$(MAKE) -C tools/gmem clean
	$(MAKE) -C examples clean
	$(MAKE) -C tools/fuzz clean
	rm -rf build

.PHONY: all module userlib selftests gmem examples fuzzer check check-pkg vm demo bench fuzz \
	install \
	install-module install-user uninstall uninstall-module uninstall-user dkms-source \
	dkms-install dkms-remove clean-module clean
