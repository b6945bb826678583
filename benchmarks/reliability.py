"""Measure the figures of docs/pages/reliability.md: how fast failures are reported and
cleaned up. Run with ``.venv/bin/python benchmarks/reliability.py``."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
sys.path[:0] = [TESTS, os.path.join(ROOT, "examples", "cpp"), os.path.join(TESTS, "data")]

from bridges import Missing, Recorder, Wrong64  # noqa: E402
from cpp import Cpp  # noqa: E402

from bitbridge import BridgeError, CallTimeout, ServerCrashed, server_info  # noqa: E402


def gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def exited(pid: int) -> bool:
    """Gone, or a zombie: the process has stopped running and waits to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def median_ms(samples: list[float]) -> str:
    median, worst = statistics.median(samples) * 1e3, max(samples) * 1e3
    return f"{median:.0f} ms (max {worst:.0f} ms, n={len(samples)})"


def time_crash_report() -> list[float]:
    samples = []
    for _ in range(10):
        with Recorder() as recorder:
            started = time.perf_counter()
            try:
                recorder.segfault()
            except ServerCrashed:
                samples.append(time.perf_counter() - started)
    return samples


def time_reap_after_sigkill() -> tuple[list[float], list[float]]:
    """Return the times until the orphaned server exited, and until it was reaped."""
    exits, reaps = [], []
    client_script = os.path.join(TESTS, "data", "client_then_sleep.py")
    for mode in ["idle", "busy"] * 5:
        client = subprocess.Popen(
            [sys.executable, client_script, TESTS, mode], stdout=subprocess.PIPE, text=True
        )
        assert client.stdout is not None
        server = int(client.stdout.readline())
        time.sleep(0.2)
        started = time.perf_counter()
        client.send_signal(signal.SIGKILL)
        client.wait()
        while not exited(server):
            time.sleep(0.001)
        exits.append(time.perf_counter() - started)
        while not gone(server):
            time.sleep(0.001)
        reaps.append(time.perf_counter() - started)
    return exits, reaps


def time_timeout_overrun() -> list[float]:
    samples = []
    for _ in range(5):
        with Recorder() as recorder:
            pid = server_info(recorder).pid
            started = time.perf_counter()
            try:
                recorder.sleep_at_most_half_a_second(30)
            except CallTimeout:
                samples.append(time.perf_counter() - started - 0.5)
            assert gone(pid)
    return samples


def time_start_error(make: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        try:
            make()
        except BridgeError:
            samples.append(time.perf_counter() - started)
    return samples


def threads_survived() -> str:
    with Cpp() as cpp:

        def work(n: int) -> bool:
            return all(cpp.add(n, i) == n + i for i in range(1000))

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(work, range(8)))
        return f"8 threads x 1000 calls, all correct, in {time.perf_counter() - started:.2f} s"


def main() -> None:
    from broken_import import Broken

    exits, reaps = time_reap_after_sigkill()
    rows = [
        ("segfault in a call reported as ServerCrashed", median_ms(time_crash_report())),
        ("server exits after SIGKILL of its client (idle or mid-call)", median_ms(exits)),
        ("... and is reaped by PID 1 (gone from /proc)", median_ms(reaps)),
        ("CallTimeout raised after the limit, server killed", median_ms(time_timeout_overrun())),
        ("start error: library not found", median_ms(time_start_error(Missing))),
        ("start error: 64-bit library (wrong architecture)", median_ms(time_start_error(Wrong64))),
        ("start error: module fails to import in the server", median_ms(time_start_error(Broken))),
        (
            "start error: interpreter is not Python (/bin/false)",
            median_ms(time_start_error(Recorder.configure(python32="/bin/false"))),
        ),
        ("threads on one bridge", threads_survived()),
    ]
    print("| guarantee | measured |\n|---|---|")
    for name, figure in rows:
        print(f"| {name} | {figure} |")


if __name__ == "__main__":
    main()
