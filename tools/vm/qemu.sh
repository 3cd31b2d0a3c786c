#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the guestmem test VM: QEMU/TCG, q35, emulated VT-d and the edu PCI DMA
# device.
#
#	qemu.sh VMLINUZ INITRD WORKDIR [shell]
#
# Batch mode writes the kernel console to WORKDIR/console.log and the test
# report (second UART) to WORKDIR/report.txt, and kills QEMU after
# VM_TIMEOUT seconds.  Exit status: 1 = the guest finished its run
# (isa-debug-exit), 0 = it powered off or panicked without reporting,
# 124 = timed out.  Shell mode puts the console on this terminal.
#
# Environment: IOMMU=on|off|amd|virtio (the IOMMU, see below), VM_TIMEOUT (default 900),
# VM_MEM (default 2G), VM_SMP (default 2), VM_APPEND (extra kernel arguments),
# VM_QEMU_ARGS (extra QEMU arguments, split on spaces).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vmlinuz=$1 initrd=$2 work=$3 mode=${4:-batch}
iommu=${IOMMU:-on}
# The IOMMU in front of the devices: Intel VT-d (on), none (off: dma-direct,
# IOVA == physical address), AMD-Vi, or virtio-iommu (a paravirtual IOMMU;
# the guest needs the virtio_iommu module, see check.sh).
case "$iommu" in
on)	iommu_dev=(-device intel-iommu); iommu_arg="intel_iommu=on" ;;
off)	iommu_dev=(-device intel-iommu); iommu_arg="intel_iommu=off" ;;
amd)	iommu_dev=(-device amd-iommu); iommu_arg="" ;;
virtio)	iommu_dev=(-device virtio-iommu-pci,addr=05.0); iommu_arg="" ;;
*)	die "IOMMU must be on, off, amd or virtio, not '$iommu'" ;;
esac

# edu: a fixed slot, since "-net none" would move it, and a 32-bit DMA mask:
# the default 28-bit mask silently clamps addresses (see shared notes).  A
# second edu sits behind a PCIe root port (0000:01:00.0), where QEMU's
# monitor can unplug it (device_del gm-edu-hotplug): q35's root bus cannot.
args=(-accel tcg -machine q35 "${iommu_dev[@]}"
      -device edu,addr=03.0,dma_mask=0xffffffff
      -device pcie-root-port,id=gm-rp1,bus=pcie.0,chassis=1,addr=04.0
      -device edu,id=gm-edu-hotplug,bus=gm-rp1,dma_mask=0xffffffff
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" -no-reboot -net none
      -kernel "$vmlinuz" -initrd "$initrd" ${VM_QEMU_ARGS:-})
append="console=ttyS0 panic=-1 oops=panic $iommu_arg iommu.strict=1 ${VM_APPEND:-}"

mkdir -p "$work"
if [ "$mode" = shell ]; then
	exec qemu-system-x86_64 "${args[@]}" -nographic \
		-serial mon:stdio -serial "file:$work/report.txt" -append "$append"
fi

rm -f "$work/console.log" "$work/report.txt" "$work/hmp.sock"
# Tests ask for monitor commands ("@@ hmp ..." in the report): relay them.
python3 "$(dirname "$0")/hmp-relay.py" "$work/report.txt" "$work/hmp.sock" \
	2>"$work/hmp-relay.log" &
relay=$!
# timeout runs in its own process group; kill it (not our group) to stop QEMU.
timeout --foreground -k 10 "${VM_TIMEOUT:-900}" qemu-system-x86_64 "${args[@]}" \
	-display none -monitor "unix:$work/hmp.sock,server=on,wait=off" \
	-serial "file:$work/console.log" -serial "file:$work/report.txt" \
	-append "quiet $append" 2>"$work/qemu.stderr" </dev/null
rc=$?
kill "$relay" 2>/dev/null
wait "$relay" 2>/dev/null
exit "$rc"
