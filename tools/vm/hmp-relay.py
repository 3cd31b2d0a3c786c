#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Relay monitor commands from the test VM to QEMU.

    hmp-relay.py REPORT SOCKET

A test that needs the host to act on the VM - unplug a device, say - writes
"@@ hmp <command>" to its output, which the guest sends to the report UART
(REPORT on the host).  This follows REPORT as QEMU writes it and sends each
such command to QEMU's human monitor on the unix socket SOCKET.  It runs
beside QEMU (tools/vm/qemu.sh starts and stops it) and exits when REPORT
says "@@ done" or after a day.
"""
import socket
import sys
import time


def send(path, command):
    for _ in range(100):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                s.sendall(command.encode() + b"\n")
                time.sleep(0.5)     # let the monitor read it before we hang up
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    report, sock = sys.argv[1], sys.argv[2]
    pos = 0
    deadline = time.time() + 86400
    while time.time() < deadline:
        try:
            with open(report, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if b"\n" in chunk:
            lines = chunk[: chunk.rindex(b"\n") + 1]
            pos += len(lines)
            for line in lines.decode(errors="replace").splitlines():
                line = line.strip()
                if line.startswith("@@ hmp "):
                    ok = send(sock, line[len("@@ hmp "):])
                    print(f"[hmp-relay] {line[7:]}: {'sent' if ok else 'FAILED'}",
                          file=sys.stderr)
                elif line == "@@ done":
                    return 0
        time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
