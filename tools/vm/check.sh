#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check / make vm: build the module for each guest kernel, pack it with
# the selftests into an initramfs, boot the test VM and judge the run.
#
#	check.sh check     run the suite on every kernel in KERNELS
#	check.sh vm        boot the first kernel in KERNELS to a shell
#	check.sh demo      run the example programs in DEMO on the first kernel
#	                   in KERNELS (default 6.1), showing their output
#	check.sh bench     run bench/gmbench on every kernel in KERNELS (default
#	                   "6.1 6.12"): a table per kernel, bench/results/<kernel>.json
#	                   and the chart bench/results/bench.png
#	check.sh fuzz      run tools/fuzz/gmfuzz alone on every kernel in KERNELS
#	                   (default debug), showing its output
#
# Environment (all optional):
#   KERNELS       kernels to use, from "6.1 6.12 debug arm64 arm64-64k"
#                 (default: "6.1 6.12 debug arm64"; arm64-64k on request)
#   IOMMU         on, off (intel_iommu=off, or no SMMUv3 on arm64:
#                 dma-direct), amd (QEMU's AMD-Vi) or virtio (virtio-iommu,
#                 6.12 and later) for every kernel.  Unset, make check runs
#                 every kernel with its IOMMU on (VT-d, or the SMMUv3) and
#                 adds two lanes: 6.1 with the IOMMU off, 6.12 behind AMD-Vi.
#   TESTS         run only these test programs (names in selftests/)
#   EXTRA_TESTS   a directory of static executables to run as extra tests
#   TEST_TIMEOUT  seconds one test program may run in the guest (default 300)
#   VM_TIMEOUT    seconds one VM may run before it is killed (default 900)
#   BENCH_ARGS    extra gmbench arguments (bench mode), e.g. --quick
#   BENCH_ICOUNT  1: bench on one vCPU with -icount shift=0,sleep=off, whose
#                 timings repeat across boots (no 2-thread row)
#   OPS, SEED, THREADS  fuzz mode: gmfuzz's operations (default 1000000),
#                 seed (default: a new one, printed) and threads (default 4)
#   FUZZ_ARGS     fuzz mode: more gmfuzz options, e.g. --trace
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-check}
case "$mode" in
check) KERNELS=${KERNELS:-6.1 6.12 debug arm64} ;;
vm|demo) KERNELS=$(set -- ${KERNELS:-6.1}; echo "$1") ;;
bench) KERNELS=${KERNELS:-6.1 6.12} ;;
fuzz) KERNELS=${KERNELS:-debug} ;;
*) die "unknown mode '$mode'" ;;
esac
user_test_timeout=${TEST_TIMEOUT:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-$([ "$mode" = bench ] && echo 600 || echo 300)}

# gmfuzz: in make check a fixed seed, 10^5 operations on the debug kernel
# (KASAN, lockdep, kmemleak, DMA-API debug) and a short smoke run on the
# other x86 lanes; make fuzz runs it alone with OPS, SEED and THREADS.
CHECK_FUZZ_SEED=0x676d66757a7a
fuzz_args() {
	if [ "$mode" = fuzz ]; then
		echo "--seed $SEED --ops $OPS --threads ${THREADS:-4} ${FUZZ_ARGS:-}"
	elif [ "$1" = debug ]; then
		echo "--seed $CHECK_FUZZ_SEED --ops 100000"
	else
		echo "--seed $CHECK_FUZZ_SEED --ops 10000"
	fi
}
# Its own limit: 10^5 operations under KASAN and TCG take minutes when the
# host is busy.
fuzz_timeout=$(( TEST_TIMEOUT > 900 ? TEST_TIMEOUT : 900 ))
if [ "$mode" = fuzz ]; then
	OPS=${OPS:-1000000}
	SEED=${SEED:-0x$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')}
	export TESTS=gmfuzz
	# TCG with KASAN runs a few hundred operations a second on a busy host.
	TEST_TIMEOUT=${user_test_timeout:-$((600 + OPS / 300))}
	fuzz_timeout=$TEST_TIMEOUT
	export VM_TIMEOUT=${VM_TIMEOUT:-$((TEST_TIMEOUT + 600))}
	msg "gmfuzz: seed $SEED, $OPS operations, ${THREADS:-4} threads"
fi
extra=${EXTRA_TESTS:-}
if [ -n "$extra" ]; then
	case "$extra" in /*) ;; *) extra=$TOP/$extra ;; esac
	[ -d "$extra" ] || die "EXTRA_TESTS=$EXTRA_TESTS is not a directory"
fi

# One run at a time per checkout: runs share build/ (module trees, VM
# reports), so a second run waits for the first.
mkdir -p "$TOP/build"
exec 9>"$TOP/build/.lock"
if ! flock -n 9; then
	msg "another make check/vm/demo is running in this checkout; waiting"
	flock 9
fi

# The architecture of a kernel in KERNELS: which QEMU and which user space.
kernel_arch() {
	case "$1" in arm64*) echo arm64 ;; *) echo x86_64 ;; esac
}
arches=$(for k in $KERNELS; do kernel_arch "$k"; done | sort -u | tr "\n" " ")
dep_sets=()
case " $KERNELS " in *" debug "*) dep_sets+=(debug) ;; esac
case " $arches " in *" arm64 "*) dep_sets+=(arm64) ;; esac
[ "$mode" = bench ] && dep_sets+=(bench)
"$TOP/tools/vm/deps.sh" "${dep_sets[@]}" || exit 1
"$TOP/tools/vm/ksft-headers.sh" || exit 1

# Warnings are errors in every build here (a distribution's build does not
# pass GM_WERROR), and the module's build includes the test module.
export GM_WERROR=1 GM_KTEST=1

# User space for one architecture: libguestmem, the selftests (or the
# examples, or gmbench), all static, plus gmem.  Native builds go where
# `make` puts them; arm64 ones are cross-built under build/arm64/.  Sets
# testdirs[ARCH].
declare -A testdirs
build_user() {
	local arch=$1 what=selftests out xmake=()
	case "$mode" in demo) what=examples ;; bench) what=bench ;; esac
	if [ "$arch" = x86_64 ]; then
		out=$TOP/build/$what
	else
		ARM64_ROOT=$(arm64_root) || exit 1
		export ARM64_ROOT
		out=$TOP/build/arm64/$what
		xmake=(CROSS_COMPILE=aarch64-linux-gnu- OUTPUT="$out"
		       USERLIB_OUTPUT="$TOP/build/arm64/userlib"
		       MNL_CFLAGS="-I$ARM64_ROOT/usr/include"
		       MNL_LIBS="-L$ARM64_ROOT/usr/lib/aarch64-linux-gnu -lmnl")
	fi
	msg "building libguestmem and the $what ($arch)"
	make -s -C "$TOP/$what" "${xmake[@]}" >/dev/null || die "building the $what ($arch) failed"
	testdirs[$arch]=$out
}
for a in $arches; do build_user "$a"; done
# The fuzzer, for the x86 lanes of make check and make fuzz (its address
# space rules are x86-64's).
fuzz_bin=
if [ "$mode" = check ] || [ "$mode" = fuzz ]; then
	make -s -C "$TOP/tools/fuzz" >/dev/null || die "building gmfuzz failed"
	fuzz_bin=$TOP/build/fuzz/gmfuzz
fi
if [ "$mode" = demo ]; then
	export TESTS=${DEMO:-edu_demo}
fi
if [ "$mode" = bench ]; then
	export TESTS=gmbench
	# The VFIO peer: edu is bound to vfio-pci by gmbench itself (bench
	# mode only; for its own rows it binds edu to guestmem, as the tests do).
	export GUEST_KMODS="brd crc32c_generic ext4 vfio-pci vfio_iommu_type1"
	export BENCH_ARGS="--device 0000:00:03.0 --vfio 0000:00:03.0 --bind-vfio ${BENCH_ARGS:-}"
	# Room for the 1 GiB lock rows next to the kernel and the arena.
	export VM_MEM=${VM_MEM:-3G}
	if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
		export VM_SMP=1 VM_QEMU_ARGS="-icount shift=0,sleep=off"
	fi
	mkdir -p "$TOP/bench/results"
	bench_json=()
fi

# Build the module(s) for one kernel out of the source tree, so that the
# kernels' objects never mix.  Prints the build directory; every .ko under
# it goes into the guest.  The build log stays in it (build.log).
build_module() {
	local name=$1 dir=$TOP/build/kmod-$1
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$TOP" && tar -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=modules.order \
		--exclude=Module.symvers Makefile Kbuild kmod $( [ -d uapi ] && echo uapi )) |
		tar -x -C "$dir" || return 1
	eval make -s -C "$KDIR" M="$dir" "$KMAKE" modules >"$dir/build.log" 2>&1 || {
		refused "$dir" >/dev/null || cat "$dir/build.log" >&2
		return 1
	}
	echo "$dir"
}

# The module refuses to build for this kernel on purpose (a static_assert
# of kmod/guestmem_private.h, e.g. "guestmem needs kernel pages of 4 KiB to
# 1 MiB"): print the reason.
refused() {
	grep -o 'static assertion failed: "[^"]*"' "$1/build.log" | sort -u |
		sed 's/static assertion failed: "\(.*\)"/\1/' | grep .
}

# Tests that need no guestmem module: edu_dma proves the VM's DMA path
# (edu, the IOMMU) with the edu driver alone.  A kernel the module refuses
# to build for runs these.
MODULE_FREE_TESTS="edu_dma"

total_pass=0 total_fail=0 total_skip=0 summary=() failures=()
# Lanes: kernel/iommu-mode pairs.
lanes=()
for k in $KERNELS; do lanes+=("$k/${IOMMU:-on}"); done
if [ "$mode" = check ] && [ -z "${IOMMU:-}" ] && [ -z "${NO_EXTRA_LANE:-}" ]; then
	case " $KERNELS " in *" 6.1 "*) lanes+=("6.1/off") ;; esac
	case " $KERNELS " in *" 6.12 "*) lanes+=("6.12/amd") ;; esac
fi

for lane in "${lanes[@]}"; do
	k=${lane%/*}
	export IOMMU=${lane#*/}
	label=$k
	case "$IOMMU" in
	off) label=$k-noiommu ;;
	amd|virtio) label=$k-$IOMMU ;;
	esac
	msg "=== kernel $k ==="
	kdesc=$("$TOP/tools/vm/kernels.sh" "$k") || die "kernel $k is not available"
	eval "$kdesc"
	export VM_ARCH=$KARCH
	testdir=${testdirs[$KARCH]}
	lane_tests=${TESTS:-} nomodule=
	if ! kodir=$(build_module "$k"); then
		kodir=$TOP/build/kmod-$k
		why=$(refused "$kodir" | head -n 1)
		[ -n "$why" ] && [ "$mode" != demo ] && [ "$mode" != bench ] ||
			die "building the module for $k ($KVER) failed${why:+: $why}"
		# Boot the kernel all the same: the lane shows it works, and says
		# why guestmem is not in it.
		nomodule="guestmem refuses to build for $KVER: $why"
		msg "$nomodule; running only the tests that need no module ($MODULE_FREE_TESTS)"
		lane_tests=$MODULE_FREE_TESTS
	fi
	work=$TOP/build/vm-$label
	mkdir -p "$work"
	kmods=${GUEST_KMODS-brd crc32c_generic ext4}
	# virtio-iommu is a module where the kernel has it (Debian: 6.12 and later).
	[ "$IOMMU" = virtio ] && kmods="$kmods virtio_iommu"
	lane_fuzz=$fuzz_bin
	[ "$KARCH" = x86_64 ] && [ -z "$nomodule" ] || lane_fuzz=
	GUEST_KMODS=$kmods TESTS=$lane_tests MODROOT=$MODROOT NOMODULE=$nomodule \
		FUZZ_BIN=$lane_fuzz FUZZ_ARGS=$(fuzz_args "$k") FUZZ_TIMEOUT=$fuzz_timeout \
		"$TOP/tools/vm/mkinitramfs.sh" "$work/initramfs.cpio.gz" "$kodir" \
		"$mode" "$TEST_TIMEOUT" "$testdir" "$extra" || exit 1
	append=
	[ "$k" = debug ] && append="panic_on_warn=1"
	if [ "$mode" = vm ]; then
		msg "booting $KVER with IOMMU=$IOMMU (leave with: poweroff -f)"
		VM_APPEND="$append" exec "$TOP/tools/vm/qemu.sh" "$VMLINUZ" \
			"$work/initramfs.cpio.gz" "$work" shell
	fi

	msg "booting $KVER with IOMMU=$IOMMU"
	start=$(date +%s)
	# The debug lane's 10^5 fuzzer operations get time of their own.
	vm_timeout=${VM_TIMEOUT:-$([ "$mode" = check ] && [ "$k" = debug ] && echo 1800 || echo 900)}
	VM_TIMEOUT=$vm_timeout VM_APPEND="$append" "$TOP/tools/vm/qemu.sh" "$VMLINUZ" \
		"$work/initramfs.cpio.gz" "$work"
	rc=$?
	# A guest that dies while booting - before its test runner starts, so
	# before any guestmem code runs - is booted once more: under TCG on a
	# loaded machine the emulator itself can kill a boot (seen once in
	# 6.12, an int3 Oops in the timer interrupt from kernel text
	# patching).  Not a boot that hangs (the VM timeout).  The first
	# console is kept, and the retry is said.
	if [ "$mode" = check ] && [ "$rc" != 124 ] && [ ! -s "$work/report.txt" ]; then
		mv "$work/console.log" "$work/console-boot1.log"
		msg "the $label guest died while booting, before its test runner started (see $work/console-boot1.log): booting it once more"
		VM_TIMEOUT=$vm_timeout VM_APPEND="$append" "$TOP/tools/vm/qemu.sh" "$VMLINUZ" \
			"$work/initramfs.cpio.gz" "$work"
		rc=$?
	fi
	secs=$(( $(date +%s) - start ))
	if [ "$mode" = demo ] || [ "$mode" = fuzz ]; then
		# The program's own output, as it printed it.
		sed -n '/^@@ begin /,/^@@ end /p' "$work/report.txt" | grep -v '^@@ '
	fi
	echo "--- $label ($KVER, $KARCH, IOMMU=$IOMMU, ${secs} s)"
	if [ "$mode" = bench ]; then
		echo
		echo "=== gmbench on $label ($KVER) ==="
		sed -n '/^@@ begin gmbench$/,/^@@ end gmbench /p' "$work/report.txt" | grep -v '^@@ '
		json=$TOP/bench/results/$label.json
		sed -n '/^@@ bench-json-begin$/,/^@@ bench-json-end$/p' "$work/report.txt" |
			grep -v '^@@ ' >"$json"
		if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$json" 2>/dev/null; then
			bench_json+=("$json")
		else
			rm -f "$json"
			msg "no valid JSON from gmbench on $label"
		fi
	fi
	python3 "$TOP/tools/vm/results.py" --kernel "$label" --report "$work/report.txt" \
		--console "$work/console.log" --qemu-rc "$rc" --counts "$work/counts"
	read -r p f s <"$work/counts"
	while IFS= read -r line; do failures+=("$line"); done < <(tail -n +2 "$work/counts")
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	summary+=("$(printf '%-14s %-22s %4d passed, %d failed, %d skipped  (%s s)' \
		"$label" "$KVER" "$p" "$f" "$s" "$secs")")
done

if [ "$mode" = bench ]; then
	echo
	echo "The build machines are shared (2 cores, other VMs running): expect noise."
	if [ ${#bench_json[@]} -gt 0 ]; then
		python3 "$TOP/bench/chart.py" --out "$TOP/bench/results/bench.png" "${bench_json[@]}" ||
			msg "drawing the chart failed"
		echo "results: ${bench_json[*]#$TOP/} bench/results/bench.png"
	fi
	[ ${#bench_json[@]} -eq ${#lanes[@]} ] || total_fail=$((total_fail + 1))
fi

echo
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
line="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && line="$line, $total_skip skipped"
echo "$line"
[ "$total_fail" -eq 0 ]
