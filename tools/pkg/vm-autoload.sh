#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the test VM: the module loads itself through its aliases.  Run with
#
#	mkdir -p build/pkg-vm && cp tools/pkg/vm-autoload.sh build/pkg-vm/
#	KERNELS=6.1 IOMMU=on EXTRA_TESTS=build/pkg-vm TESTS=vm-autoload.sh \
#		tools/vm/check.sh check
#
# The guest's /init has loaded guestmem.ko with insmod.  This script installs
# it under /lib/modules/$(uname -r) (busybox depmod writes modules.alias),
# points the kernel's modprobe at busybox's, and then, each time after
# rmmod guestmem:
#  - makes the node kmod static-nodes would make from modules.devname
#    (c 10:248: devtmpfs has none while the module is out) and opens it:
#    misc_open() requests char-major-10-248, and the module is back;
#  - runs gmem show: the lookup of the generic netlink family requests
#    net-pf-16-proto-16-family-guestmem, and the module is back.
n=0 failed=0
t() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}
loaded() { grep -q '^guestmem ' /proc/modules; }

echo "TAP version 13"
echo "1..8"
kver=$(uname -r)
mkdir -p "/lib/modules/$kver/extra"
cp /lib/modules/guestmem.ko "/lib/modules/$kver/extra/" && depmod &&
	grep -q '^alias char-major-10-248 guestmem$' "/lib/modules/$kver/modules.alias" &&
	grep -q '^alias devname:guestmem guestmem$' "/lib/modules/$kver/modules.alias" &&
	grep -q '^alias net-pf-16-proto-16-family-guestmem guestmem$' \
		"/lib/modules/$kver/modules.alias"
t $? "depmod lists the three aliases in modules.alias"
echo /bin/modprobe >/proc/sys/kernel/modprobe

rmmod guestmem && ! loaded && [ ! -e /dev/guestmem ]
t $? "after rmmod, no module and no /dev/guestmem"
mknod /dev/guestmem c 10 248 && chmod 0660 /dev/guestmem
t $? "the static node: mknod /dev/guestmem c 10 248"
# shellcheck disable=SC3023
{ exec 3<>/dev/guestmem; } 2>/dev/null
t $? "open(/dev/guestmem) succeeds"
exec 3>&-
loaded
t $? "... and loaded guestmem (char-major-10-248)"

rmmod guestmem && ! loaded
t $? "rmmod again"
gmem show >/dev/null
t $? "gmem show succeeds"
loaded
t $? "... and loaded guestmem (net-pf-16-proto-16-family-guestmem)"
exit $failed
