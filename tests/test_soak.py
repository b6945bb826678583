"""Long runs: no memory growth over 100,000 calls, no leaks over 200 bridges."""

from __future__ import annotations

import os

from bridges import Recorder
from processes import fd_count, process_gone

from bitbridge import server_info

CALLS = 100_000
CYCLES = 200
MB = 1024 * 1024


def resident(pid: int) -> int:
    """Resident memory of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_memory_stays_flat_over_a_hundred_thousand_calls(cpp):
    server = server_info(cpp).pid
    for i in range(5_000):  # warm up: caches, netref tables, allocator pools
        cpp.add(i, 1)
    client_before, server_before = resident(os.getpid()), resident(server)
    for i in range(CALLS):
        assert cpp.add(i, 1) == i + 1
    client_growth = resident(os.getpid()) - client_before
    server_growth = resident(server) - server_before
    print(
        f"\nsoak: {CALLS} calls, client grew {client_growth / MB:.2f} MB, "
        f"server grew {server_growth / MB:.2f} MB"
    )
    assert client_growth < 5 * MB
    assert server_growth < 5 * MB


def test_two_hundred_bridges_leak_no_descriptor_or_process():
    with Recorder() as warm:
        warm.pid()
    fds_before = fd_count()
    pids = []
    for _ in range(CYCLES):
        with Recorder() as recorder:
            pids.append(recorder.pid())
    assert fd_count() == fds_before
    assert len(set(pids)) == CYCLES
    assert all(process_gone(pid) for pid in pids)
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as children:
        alive = {int(pid) for pid in children.read().split()}
    assert not alive & set(pids)
