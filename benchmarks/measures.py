"""What the benchmark measures and how: the samples, the time budget, the hang guard.

Every measure runs round by round across the contenders, so a change in the machine's
load hits all of them alike. A contender that fails, or hangs for CALL_LIMIT seconds,
is recorded in its cell and the run goes on without it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from contenders import Contender, Floor, NotApplicable

T = TypeVar("T")
LINUX_KEYS = ("floor", "rpyc", "msl", "bitbridge")
#: bitbridge on the Windows DLL, its server under Wine, over each transport.
WINE_KEYS = ("wine_fd", "wine_tcp")
KEYS = LINUX_KEYS + WINE_KEYS
NAMES = {"floor": "raw-socket floor", "rpyc": "plain rpyc", "msl": "msl-loadlib 1.1.0"}
NAMES["bitbridge"] = "bitbridge"
NAMES["wine_fd"] = "bitbridge under Wine, inherited socket"
NAMES["wine_tcp"] = "bitbridge under Wine, TCP"

START_REPS = 10  # after one discarded warm-up start
ADD_ROUNDS, ADD_ROUND_SECONDS = 20, 0.06
ECHO_BYTES, ECHO_ROUNDS = 8 * 1024 * 1024, 11
MULTIPLY_N, MULTIPLY_ROUNDS = 1_000_000, 9
THREAD_CALLS, THREAD_ROUNDS, THREADS = 3000, 7, 8
BUDGET = 8.0  # seconds one contender may spend on one measure before rounds stop for it
CALL_LIMIT = 60.0  # a contender silent for this long is reported as hung and left behind
RUN_LIMIT = 900  # the last resort: the whole run ends after this many seconds, with tracebacks

MEASURES = {
    "add": "scalar call `add(1, 2)`, per call",
    "echo": "8 MiB `bytes` echo",
    "multiply": "`scalar_multiply`, 1M doubles",
    "start": "start to first call",
    "close": "close",
    "threads1": f"{THREAD_CALLS} `add` calls, 1 thread (wall)",
    "threads8": f"{THREAD_CALLS} `add` calls, {THREADS} threads (wall)",
}


@dataclass
class Cell:
    """One contender's samples for one measure (seconds), or why there are none."""

    samples: list[float] = field(default_factory=list)
    error: str | None = None
    na: str | None = None
    spent: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.na is None and bool(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.ok else None


Results = dict[str, dict[str, Cell]]
Factories = dict[str, Callable[[], Contender]]  # a contender's key to a new, unstarted one


def new_results() -> Results:
    """An empty cell for every measure and every contender."""
    return {measure: {k: Cell() for k in KEYS} for measure in MEASURES}


def describe_error(exc: BaseException) -> str:
    """The exception's type and message on one line, cut to 300 characters."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def say(message: str) -> None:
    """Print a progress line."""
    print(f"==> {message}", flush=True)


# --- failures and hangs --------------------------------------------------------------


def active(contenders: dict[str, Contender], results: Results, measure: str) -> list[str]:
    """The contenders still taking part in ``measure``."""
    return [
        k for k in contenders if results[measure][k].error is None and not results[measure][k].na
    ]


class Hung(Exception):
    """A contender did not answer within CALL_LIMIT seconds."""


HUNG: set[str] = set()  # contenders left behind, blocked in a call: not even closed


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a daemon thread; raise Hung if it does not finish within CALL_LIMIT."""
    box: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CALL_LIMIT)
    if not box:
        raise Hung(f"no answer within {CALL_LIMIT:.0f} s; left behind")
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def fail(results: Results, measure: str, key: str, exc: BaseException) -> None:
    """Record why ``key`` left ``measure``; a hang also fails every measure still to come."""
    if isinstance(exc, NotApplicable):
        results[measure][key].na = str(exc)
        return
    results[measure][key].error = describe_error(exc)
    say(f"{NAMES[key]}: {measure} failed: {describe_error(exc)}")
    if isinstance(exc, Hung):
        HUNG.add(key)
        for cells in results.values():
            cell = cells[key]
            if not cell.samples and cell.error is None and cell.na is None:
                cell.error = describe_error(exc)


def attempt(results: Results, measure: str, key: str, fn: Callable[[], T]) -> T | None:
    """Run ``fn`` under the hang guard; if it fails, record that with ``fail`` and return None."""
    try:
        return guarded(fn)
    except Exception as exc:
        fail(results, measure, key, exc)
        return None


# --- the contenders' servers ---------------------------------------------------------


def start_all(factories: Factories, results: Results) -> dict[str, Contender]:
    """Start the contenders the measures share; one that fails is out of every measure."""
    contenders: dict[str, Contender] = {}
    for key, make in factories.items():
        error = results["start"][key].error
        contender = make()
        if error is None:
            try:
                guarded(contender.start)
            except Exception as exc:
                error = describe_error(exc)
                say(f"{NAMES[key]}: start failed: {error}")
                with contextlib.suppress(Exception):
                    contender.kill() if isinstance(exc, Hung) else contender.close()
        if error is not None:
            for measure in MEASURES:
                if measure not in ("start", "close"):
                    results[measure][key].error = error
            continue
        contenders[key] = contender
        attempt(results, "echo", key, contender.open_echo)
    return contenders


def close_all(contenders: dict[str, Contender]) -> None:
    """Close every contender, and kill the ones left behind hung."""
    for key, contender in contenders.items():
        if key in HUNG:
            contender.kill()
            continue
        try:
            guarded(contender.close)
        except Exception as exc:
            say(f"{contender.name}: close failed: {describe_error(exc)}")


# --- the measures --------------------------------------------------------------------


def measure_start_close(factories: Factories, results: Results) -> None:
    """Start to first call and close, on fresh servers, interleaved across contenders."""
    for rep in range(START_REPS + 1):
        for key, make in factories.items():
            if results["start"][key].error:
                continue
            contender = make()

            def start_close(contender: Contender = contender) -> tuple[float, float]:
                t0 = time.perf_counter()
                contender.start()
                t1 = time.perf_counter()
                contender.close()
                return t1 - t0, time.perf_counter() - t1

            try:
                start, close = guarded(start_close)
            except Exception as exc:
                fail(results, "start", key, exc)
                if results["close"][key].error is None:
                    results["close"][key].error = "no server started"
                with contextlib.suppress(Exception):
                    contender.kill() if key in HUNG else contender.close()
                continue
            if rep:  # the first round warms the imports and the disk cache
                results["start"][key].samples.append(start)
                results["close"][key].samples.append(close)


def measure_add(contenders: dict[str, Contender], results: Results) -> None:
    """Scalar calls, timed one by one, in short interleaved rounds."""
    clock = time.perf_counter

    def chunk(add: Callable[[int, int], int], samples: list[float]) -> None:
        end = clock() + ADD_ROUND_SECONDS
        calls = 0
        while calls < 10 or clock() < end:
            t0 = clock()
            value = add(1, 2)
            samples.append(clock() - t0)
            calls += 1
            if value != 3:
                raise AssertionError(f"add(1, 2) returned {value!r}")

    for key in active(contenders, results, "add"):
        attempt(results, "add", key, partial(chunk, contenders[key].add, []))  # warm-up
    for _ in range(ADD_ROUNDS):
        for key in active(contenders, results, "add"):
            add, samples = contenders[key].add, results["add"][key].samples
            attempt(results, "add", key, partial(chunk, add, samples))


def run_rounds(
    contenders: dict[str, Contender],
    results: Results,
    measure: str,
    rounds: int,
    call: Callable[[Contender], None],
) -> None:
    """Time ``call`` once per contender per round, after an untimed and checked warm-up."""

    def timed(contender: Contender) -> float:
        t0 = time.perf_counter()
        call(contender)
        return time.perf_counter() - t0

    for key in active(contenders, results, measure):
        elapsed = attempt(results, measure, key, partial(timed, contenders[key]))
        if elapsed is not None:
            results[measure][key].spent += elapsed
    for _ in range(rounds):
        for key in active(contenders, results, measure):
            cell = results[measure][key]
            if cell.spent > BUDGET and len(cell.samples) >= 3:
                continue
            elapsed = attempt(results, measure, key, partial(timed, contenders[key]))
            if elapsed is not None:
                cell.samples.append(elapsed)
                cell.spent += elapsed


def measure_echo(contenders: dict[str, Contender], results: Results) -> None:
    """Random bytes to the server and back, checked equal."""
    data = os.urandom(ECHO_BYTES)

    def echo(contender: Contender) -> None:
        if contender.echo(data) != data:
            raise AssertionError("the echo came back changed")

    run_rounds(contenders, results, "echo", ECHO_ROUNDS, echo)


def measure_multiply(contenders: dict[str, Contender], results: Results) -> None:
    """``scalar_multiply`` over MULTIPLY_N doubles, in the form each contender's users pass."""
    xs = np.arange(MULTIPLY_N, dtype=np.float64) / 3.0
    expected = 2.5 * xs
    arguments = {}

    def prepare(contender: Contender) -> None:
        arguments[contender.key] = contender.multiply_argument(xs)
        got = contender.scalar_multiply(2.5, arguments[contender.key])
        np.testing.assert_allclose(np.asarray(got), expected)

    for key in active(contenders, results, "multiply"):
        attempt(results, "multiply", key, partial(prepare, contenders[key]))

    def multiply(contender: Contender) -> None:
        contender.scalar_multiply(2.5, arguments[contender.key])

    run_rounds(contenders, results, "multiply", MULTIPLY_ROUNDS, multiply)


def wall_time(add: Callable[[int, int], int], threads: int) -> float:
    """Wall time for THREAD_CALLS calls of ``add`` shared among ``threads`` threads."""
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work(calls: int) -> None:
        barrier.wait()
        try:
            for _ in range(calls):
                if add(1, 2) != 3:
                    raise AssertionError("add(1, 2) != 3")
        except BaseException as exc:
            errors.append(exc)

    share, extra = divmod(THREAD_CALLS, threads)
    workers = [
        threading.Thread(target=work, args=(share + (i < extra),), daemon=True)
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    t0 = time.perf_counter()
    for worker in workers:
        worker.join(max(0.0, t0 + CALL_LIMIT - time.perf_counter()))
    elapsed = time.perf_counter() - t0
    if any(worker.is_alive() for worker in workers):
        raise Hung(f"{THREAD_CALLS} calls not done within {CALL_LIMIT:.0f} s; left behind")
    if errors:
        raise errors[0]
    return elapsed


def measure_threads(contenders: dict[str, Contender], results: Results) -> None:
    """The same number of calls on one connection from 1 thread, then from 8."""
    for key, contender in contenders.items():
        if not contender.thread_safe:
            reason = (
                "one socket, one request at a time"
                if key == "floor"
                else "not thread-safe (one HTTP connection, one pickle file)"
            )
            results["threads1"][key].na = results["threads8"][key].na = reason
    for rnd in range(THREAD_ROUNDS):
        for key in active(contenders, results, "threads8"):
            order = (1, THREADS) if rnd % 2 == 0 else (THREADS, 1)
            for threads in order:
                measure = "threads1" if threads == 1 else "threads8"
                try:
                    results[measure][key].samples.append(wall_time(contenders[key].add, threads))
                except Exception as exc:
                    fail(results, measure, key, exc)
                    results["threads8"][key].error = describe_error(exc)


def memcpy_time(nbytes: int) -> float:
    """Median time of a plain copy of ``nbytes`` between two numpy buffers."""
    src = np.frombuffer(os.urandom(nbytes), dtype=np.uint8)
    dst = np.empty_like(src)
    times = []
    for _ in range(21):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compute_time(contenders: dict[str, Contender]) -> float | None:
    """Median time of ``scalar_multiply``'s C call alone, timed inside the floor's server."""
    floor = contenders.get("floor")
    if isinstance(floor, Floor) and floor.compute_times:
        return statistics.median(floor.compute_times)
    return None


# --- the machine's CPU ---------------------------------------------------------------


def cpu_busy_seconds() -> float:
    """CPU time all processes on the machine spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time this process and its waited-for children have used."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuUsage:
    """The run's wall clock, and the CPU time other processes take from the machine."""

    def __init__(self) -> None:
        self.wall0, self.busy0, self.own0 = (
            time.perf_counter(),
            cpu_busy_seconds(),
            own_cpu_seconds(),
        )

    def others(self) -> tuple[float, float]:
        """Seconds since the start, and the share of all cores' time other processes used."""
        wall = time.perf_counter() - self.wall0
        others = (cpu_busy_seconds() - self.busy0) - (own_cpu_seconds() - self.own0)
        return wall, max(others, 0.0) / (wall * (os.cpu_count() or 1))
