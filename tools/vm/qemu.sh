#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the guestmem test VM: QEMU/TCG with an emulated IOMMU and the edu PCI
# DMA device.
#
#	qemu.sh VMLINUZ INITRD WORKDIR [shell]
#
# VM_ARCH=x86_64 (default): q35, emulated VT-d (intel-iommu).
# VM_ARCH=arm64: the virt board with its SMMUv3 (-machine virt,iommu=smmuv3).
#
# Batch mode writes the kernel console to WORKDIR/console.log and the test
# report (a second UART) to WORKDIR/report.txt, and kills QEMU after
# VM_TIMEOUT seconds.  Exit status: 1 = the guest finished its run,
# 0 = it powered off or panicked without reporting, 124 = timed out.  On x86
# the guest says "finished" through isa-debug-exit; arm64 has no such
# device, so there the guest powers off through PSCI and "finished" means
# QEMU exited 0 after the report's last line, "@@ done" (a panic also ends
# QEMU with 0, -no-reboot, but never after that line).  Shell mode puts the
# console on this terminal.
#
# Environment: VM_ARCH, IOMMU (below), VM_TIMEOUT (default 900), VM_MEM
# (default 2G), VM_SMP (default 2), VM_APPEND (extra kernel arguments),
# VM_QEMU_ARGS (extra QEMU arguments, split on spaces).
#
# IOMMU, the IOMMU in front of the devices: on (x86: Intel VT-d; arm64:
# the SMMUv3), off (none: dma-direct, IOVA == physical address), amd
# (x86: AMD-Vi) or virtio (x86: virtio-iommu, a paravirtual IOMMU; the
# guest needs its virtio_iommu module, which check.sh adds).
#
# Tests ask for monitor commands by printing "@@ hmp <command>": they reach
# the report, and hmp-relay.py passes them to QEMU's monitor (unplugging a
# device, say).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vmlinuz=$1 initrd=$2 work=$3 mode=${4:-batch}
iommu=${IOMMU:-on}
arch=${VM_ARCH:-x86_64}
case "$arch/$iommu" in
*/on|*/off|x86_64/amd|x86_64/virtio) ;;
*) die "IOMMU must be on, off (or, on x86, amd or virtio), not '$iommu'" ;;
esac

# edu: a fixed slot, since "-net none" would move it, and a 32-bit DMA mask:
# the default 28-bit mask silently clamps addresses (see shared notes).
common=(-accel tcg -device edu,addr=03.0,dma_mask=0xffffffff
	-m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" -no-reboot -net none
	-kernel "$vmlinuz" -initrd "$initrd")
case "$arch" in
x86_64)
	qemu=qemu-system-x86_64
	case "$iommu" in
	on)	iommu_dev=(-device intel-iommu); iommu_arg=intel_iommu=on ;;
	off)	iommu_dev=(-device intel-iommu); iommu_arg=intel_iommu=off ;;
	amd)	iommu_dev=(-device amd-iommu); iommu_arg= ;;
	virtio)	iommu_dev=(-device virtio-iommu-pci,addr=05.0); iommu_arg= ;;
	esac
	# A second edu sits behind a PCIe root port (0000:01:00.0), where the
	# monitor can unplug it (device_del gm-edu-hotplug): q35's root bus
	# cannot.
	args=(-machine q35 "${iommu_dev[@]}" "${common[@]}"
	      -device pcie-root-port,id=gm-rp1,bus=pcie.0,chassis=1,addr=04.0
	      -device edu,id=gm-edu-hotplug,bus=gm-rp1,dma_mask=0xffffffff
	      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
	# Two 16550s: ttyS0 the console, ttyS1 the report.  no_timer_check:
	# on a loaded host a TCG guest can miss the IO-APIC timer check, and
	# with interrupt remapping 6.1 panics on that ("timer doesn't work
	# through Interrupt-remapped IO-APIC") before /init runs.
	console=(-serial) report=(-serial)
	append="console=ttyS0 panic=-1 oops=panic $iommu_arg iommu.strict=1 no_timer_check"
	;;
arm64)
	qemu=qemu-system-aarch64
	machine=virt
	[ "$iommu" = on ] && machine=virt,iommu=smmuv3
	# virt has one PL011 (the console, ttyAMA0); the report goes to a
	# 16550 on PCI (pci-serial, the guest's ttyS0).  cortex-a57: no
	# pointer authentication, which TCG emulates slowly.
	args=(-machine "$machine" -cpu cortex-a57 "${common[@]}"
	      -device pci-serial,addr=04.0,chardev=report)
	console=(-serial) report=(-chardev)
	append="console=ttyAMA0 panic=-1 oops=panic iommu.strict=1"
	;;
*)
	die "VM_ARCH must be x86_64 or arm64, not '$arch'" ;;
esac
args+=(${VM_QEMU_ARGS:-})
append="$append ${VM_APPEND:-}"
report_to() {
	case "${report[0]}" in
	-serial) echo "file:$1" ;;
	-chardev) echo "file,id=report,path=$1" ;;
	esac
}

mkdir -p "$work"
if [ "$mode" = shell ]; then
	exec "$qemu" "${args[@]}" -nographic \
		"${console[@]}" mon:stdio "${report[@]}" "$(report_to "$work/report.txt")" \
		-append "$append"
fi

rm -f "$work/console.log" "$work/report.txt" "$work/hmp.sock"
python3 "$(dirname "$0")/hmp-relay.py" "$work/report.txt" "$work/hmp.sock" \
	2>"$work/hmp-relay.log" &
relay=$!
# timeout runs in its own process group; kill it (not our group) to stop QEMU.
timeout --foreground -k 10 "${VM_TIMEOUT:-900}" "$qemu" "${args[@]}" \
	-display none -monitor "unix:$work/hmp.sock,server=on,wait=off" \
	"${console[@]}" "file:$work/console.log" \
	"${report[@]}" "$(report_to "$work/report.txt")" \
	-append "quiet $append" 2>"$work/qemu.stderr" </dev/null
rc=$?
kill "$relay" 2>/dev/null
wait "$relay" 2>/dev/null
if [ "$arch" = arm64 ] && [ $rc = 0 ] &&
   [ "$(tail -n 1 "$work/report.txt" 2>/dev/null | tr -d '\r')" = "@@ done" ]; then
	rc=1
fi
exit $rc
