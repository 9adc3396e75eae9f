"""Killing a command under test the way a crash would: SIGKILL, which nothing can catch."""

from __future__ import annotations

import os
import signal
import subprocess


def sigkill_after(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL `proc` unless it exits within `delay` seconds; True if it was still running."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return True
