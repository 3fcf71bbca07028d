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
