"""What the tests check of processes and file descriptors (Linux's /proc)."""

from __future__ import annotations

import os


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists (a zombie counts as still there)."""
    return not os.path.exists(f"/proc/{pid}")


def fd_count() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))
