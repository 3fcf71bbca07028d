"""Stall a nats-server as a hung host would (SIGSTOP), and wake it (SIGCONT)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.waiting import wait_for


def _all_threads_stopped(pid: int) -> bool:
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            states.append((task / "stat").read_text().rpartition(")")[2].split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that just ended
    return bool(states) and all(state in ("T", "t") for state in states)


def stall(process: subprocess.Popen[bytes]) -> None:
    """Stop the process and return once every thread of it has stopped: a signal takes a moment."""
    os.kill(process.pid, signal.SIGSTOP)
    wait_for(lambda: _all_threads_stopped(process.pid), timeout=10, interval=0.001)


def wake(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGCONT)


def unread_bytes(port: int) -> int:
    """Bytes clients sent to a loopback server on ``port`` that it has not read yet
    (a stalled server's backlog: requests in flight)."""
    total = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rpartition(":")[2], 16) == port:
            total += int(fields[4].partition(":")[2], 16)
    return total
