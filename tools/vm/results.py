#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one test-VM run of guestmem.

Reads the report the guest wrote on its second serial port (see guest-init),
the kernel console log and QEMU's exit status (tools/vm/qemu.sh: 1 = the
guest finished its run, on both architectures), prints one line per test
case and per check, and writes "passed failed skipped" to --counts.

A run fails when a test case fails, a test program dies or times out without
saying why, the module does not load or unload, the guest dies, or the kernel
log shows a splat (WARNING, BUG, Oops, lockup, KASAN, UBSAN, kmemleak, an
IOMMU fault: VT-d's DMAR, a virtio-iommu or AMD-Vi fault, an SMMUv3 event)
that the test running at that moment did not declare.  A test declares a message it provokes by writing
"guestmem-selftest: expect <text>" to /dev/kmsg; kernel lines containing
<text> are then allowed until it ends.  A guest that ran without the module
(a kernel it refuses to build for) reports "@@ insmod skipped WHY": a skip,
not a failure.
"""
import argparse
import re
import sys

BAD = re.compile(
    r"WARNING:|BUG:|Oops|general protection fault|Kernel panic|soft lockup|"
    r"hard LOCKUP|blocked for more than|UBSAN:|KASAN:|unreferenced object|"
    r"DMAR: \[DMA|DMAR: .*[Ff]ault|arm-smmu-v3 .*: event|"
    r"virtio_iommu .*: page fault|AMD-Vi: Event logged|"
    r"rcu: INFO|self-detected stall|"
    r"possible circular locking|inconsistent lock state|"
    r"sleeping function called from invalid context|list_(add|del) corruption")
TAP = re.compile(r"^(not ok|ok) (\d+)(?: (.*?))?(?:\s*#\s*(SKIP|TODO)\b\s*(.*))?$")


class Run:
    def __init__(self, kernel):
        self.kernel = kernel
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def case(self, status, name, why=""):
        label = f"{self.kernel}: {name}"
        if status == "pass":
            self.passed += 1
            print(f"  ok      {label}")
        elif status == "skip":
            self.skipped += 1
            print(f"  skip    {label}{' # ' + why if why else ''}")
        else:
            self.failed += 1
            self.failures.append(f"{label}: {why}")
            print(f"  FAILED  {label}: {why}")


def sections(lines, begin, end):
    out, inside = [], False
    for line in lines:
        if line == begin:
            inside = True
        elif line == end:
            inside = False
        elif inside:
            out.append(line)
    return out


def judge_tests(run, lines):
    """Each '@@ begin' .. '@@ end' block is one test program's TAP output."""
    finished = set()
    current, cases, failed_cases, log, last_run = None, 0, 0, [], {}
    for line in lines:
        if line.startswith("@@ begin "):
            current, cases, failed_cases, log, last_run = line[9:], 0, 0, [], {}
            continue
        if current is None:
            continue
        m = re.match(r"@@ end (\S+) rc=(\d+)", line)
        if m:
            rc = int(m.group(2))
            finished.add(current)
            if rc == 4 and cases == 0:
                run.case("skip", current, "the whole program skipped")
            elif rc == 0 and cases == 0:
                # A program without TAP (the demo): its exit status is it.
                run.case("pass", current)
            elif rc >= 124 and rc != 0:
                run.case("fail", current, f"killed or timed out (exit {rc})")
                tail = "\n".join("      " + l for l in log[-15:])
                print(tail)
            elif rc not in (0, 4) and failed_cases == 0:
                run.case("fail", current,
                         f"exited {rc} without a failing test case (crashed?)")
                print("\n".join("      " + l for l in log[-15:]))
            current = None
            continue
        log.append(line)
        m = re.match(r"#\s+RUN\s+(\S+)", line)
        if m:
            last_run[len(last_run) + 1] = m.group(1)
        m = TAP.match(line)
        if not m:
            continue
        cases += 1
        num = int(m.group(2))
        name = (m.group(3) or "").strip() or last_run.get(num, f"case {num}")
        name = f"{current}/{name}"
        if m.group(4) == "SKIP":
            run.case("skip", name, m.group(5) or "")
        elif m.group(1) == "ok":
            run.case("pass", name)
        else:
            failed_cases += 1
            run.case("fail", name, "not ok")
            # The harness's diagnostics for this case precede the line.
            diag = [l for l in log[-25:] if l.startswith("#") and "RUN" not in l]
            print("\n".join("      " + l for l in diag[-12:]))
    if current is not None:
        run.case("fail", current, "did not finish (the guest died or hung)")
    return finished


def judge_dmesg(run, dmesg):
    expect, bad, test = [], [], None
    for line in dmesg:
        m = re.search(r"guestmem-runner: (begin|end) (\S+)", line)
        if m:
            test = m.group(2) if m.group(1) == "begin" else None
            expect = []
            continue
        m = re.search(r"guestmem-selftest: expect (.+)$", line)
        if m:
            expect.append(m.group(1).strip())
            continue
        if BAD.search(line) and not any(e in line for e in expect):
            bad.append((test, line))
    if bad:
        where = ", ".join(sorted({t or "outside any test" for t, _ in bad}))
        run.case("fail", "kernel log", f"{len(bad)} splat line(s) (during: {where})")
        for t, line in bad[:20]:
            print(f"      [{t or '-'}] {line}")
    else:
        run.case("pass", "kernel log")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--console", required=True)
    ap.add_argument("--qemu-rc", type=int, required=True)
    ap.add_argument("--counts", required=True)
    a = ap.parse_args()

    run = Run(a.kernel)
    try:
        with open(a.report, errors="replace") as f:
            lines = [l.rstrip("\r\n") for l in f]
    except FileNotFoundError:
        lines = []

    insmod = [l for l in lines if l.startswith("@@ insmod ")]
    if insmod and insmod[0].startswith("@@ insmod skipped"):
        run.case("skip", "insmod guestmem", insmod[0][len("@@ insmod skipped "):])
    elif insmod and insmod[0] != "@@ insmod rc=0":
        run.case("fail", "insmod guestmem", insmod[0][3:])
    elif insmod:
        run.case("pass", "insmod guestmem")

    judge_tests(run, lines)

    rmmod = [l for l in lines if l.startswith("@@ rmmod rc=")]
    if rmmod:
        if rmmod[0] == "@@ rmmod rc=0":
            run.case("pass", "rmmod guestmem")
        else:
            run.case("fail", "rmmod guestmem", rmmod[0][3:])

    if "@@ kmemleak-begin" in lines:
        leaks = sections(lines, "@@ kmemleak-begin", "@@ kmemleak-end")
        if any("unreferenced object" in l for l in leaks):
            run.case("fail", "kmemleak", "leaks reported")
            print("\n".join("      " + l for l in leaks[:60]))
        else:
            run.case("pass", "kmemleak")

    if "@@ dmesg-end" in lines:
        judge_dmesg(run, sections(lines, "@@ dmesg-begin", "@@ dmesg-end"))

    if "@@ done" not in lines or a.qemu_rc != 1:
        try:
            with open(a.console, errors="replace") as f:
                con = [l.rstrip() for l in f]
        except FileNotFoundError:
            con = []
        splat = [i for i, l in enumerate(con) if BAD.search(l)]
        if not lines:
            where = "before its test runner started"
        elif not insmod:
            where = "while loading the module"
        elif "@@ done" in lines:
            where = "after its run"
        else:
            where = "during the run"
        why = {124: f"the VM timed out (VM_TIMEOUT) {where} and was killed",
               0: f"the guest died {where}"}.get(a.qemu_rc,
                                                  f"QEMU exited {a.qemu_rc} {where}")
        if splat:
            why += ": " + re.sub(r"^\[[ \d.]+\] ", "", con[splat[0]])
        run.case("fail", "guest", why)
        start = max(0, (splat[0] - 5) if splat else len(con) - 40)
        print("      --- kernel console ---")
        print("\n".join("      " + l for l in con[start:start + 60]))

    with open(a.counts, "w") as f:
        f.write(f"{run.passed} {run.failed} {run.skipped}\n")
        for line in run.failures:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
