"""Side-by-side benchmark: raw-socket floor, plain rpyc, msl-loadlib 1.1.0 and bitbridge.

Run it with ``make bench``. Every contender calls the same kind of 32-bit library from
this 64-bit process, in one run; the measures are interleaved round by round, so a
change in the machine's load hits all of them alike. It prints a table of medians and
ratios, checks issue 5's targets and writes both to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import faulthandler
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from contenders import (
    ROOT,
    Bitbridge,
    Contender,
    Floor,
    MslLoadlib,
    NotApplicable,
    PlainRpyc,
)

T = TypeVar("T")
X, DASH, MINUS = "\N{MULTIPLICATION SIGN}", "\N{EN DASH}", "\N{MINUS SIGN}"
KEYS = ("floor", "rpyc", "msl", "bitbridge")
NAMES = {"floor": "raw-socket floor", "rpyc": "plain rpyc", "msl": "msl-loadlib 1.1.0"}
NAMES["bitbridge"] = "bitbridge"

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


def fmt_time(seconds: float | None) -> str:
    """Format a duration with a unit that keeps three significant digits."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.3g}{X}"


def describe_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- measuring ---------------------------------------------------------------------


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


def measure_start_close(factories: dict[str, Callable[[], Contender]], results: Results) -> None:
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
        try:
            guarded(partial(chunk, contenders[key].add, []))  # warm-up
        except Exception as exc:
            fail(results, "add", key, exc)
    for _ in range(ADD_ROUNDS):
        for key in active(contenders, results, "add"):
            add, samples = contenders[key].add, results["add"][key].samples
            try:
                guarded(partial(chunk, add, samples))
            except Exception as exc:
                fail(results, "add", key, exc)


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
        try:
            results[measure][key].spent += guarded(partial(timed, contenders[key]))
        except Exception as exc:
            fail(results, measure, key, exc)
    for _ in range(rounds):
        for key in active(contenders, results, measure):
            cell = results[measure][key]
            if cell.spent > BUDGET and len(cell.samples) >= 3:
                continue
            try:
                elapsed = guarded(partial(timed, contenders[key]))
            except Exception as exc:
                fail(results, measure, key, exc)
                continue
            cell.samples.append(elapsed)
            cell.spent += elapsed


def measure_echo(contenders: dict[str, Contender], results: Results) -> None:
    data = os.urandom(ECHO_BYTES)

    def echo(contender: Contender) -> None:
        if contender.echo(data) != data:
            raise AssertionError("the echo came back changed")

    run_rounds(contenders, results, "echo", ECHO_ROUNDS, echo)


def measure_multiply(contenders: dict[str, Contender], results: Results) -> None:
    xs = np.arange(MULTIPLY_N, dtype=np.float64) / 3.0
    expected = 2.5 * xs
    arguments = {}

    def prepare(contender: Contender) -> None:
        arguments[contender.key] = contender.multiply_argument(xs)
        got = contender.scalar_multiply(2.5, arguments[contender.key])
        np.testing.assert_allclose(np.asarray(got), expected)

    for key in active(contenders, results, "multiply"):
        try:
            guarded(partial(prepare, contenders[key]))
        except Exception as exc:
            fail(results, "multiply", key, exc)

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


# --- the machine ---------------------------------------------------------------------


def cpu_busy_seconds() -> float:
    """CPU time all processes on the machine spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def run_text(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({describe_error(exc)})"
    return " ".join(out.stdout.split())


def versions(python32: tuple[str, ...] | None) -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"client Python: {sys.version.split()[0]} ({platform.architecture()[0]})"]
    if python32:
        code = "import struct, sys; print(sys.version.split()[0], 8 * struct.calcsize('P'), 'bit')"
        lines.append(f"32-bit Python (bitbridge, rpyc, floor): {run_text([*python32, '-c', code])}")
    try:
        from msl.loadlib import Server32

        lines.append(f"msl-loadlib's frozen server: {Server32.version()}")
    except Exception as exc:
        lines.append(f"msl-loadlib's frozen server: unknown ({describe_error(exc)})")
    packages = []
    for name in ("bitbridge", "rpyc", "msl-loadlib", "numpy"):
        try:
            packages.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            packages.append(f"{name} not installed")
    lines.append("packages: " + ", ".join(packages))
    commit = run_text(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = run_text(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "examples"])
    state = "with uncommitted changes in src/ or examples/" if dirty else "clean"
    lines.append(f"bitbridge source: commit {commit}, {state}")
    return lines


# --- the report ----------------------------------------------------------------------


def cell_text(cell: Cell, notes: list[str]) -> str:
    def note(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    if cell.error is not None:
        return f"failed {note(cell.error)}"
    if cell.na is not None:
        return f"n/a {note(cell.na)}"
    return fmt_time(cell.median)


def ratio(results: Results, measure: str, top: str, bottom: str) -> float | None:
    a, b = results[measure][top].median, results[measure][bottom].median
    return a / b if a is not None and b is not None and b > 0 else None


def thread_ratio(results: Results, key: str) -> float | None:
    one, eight = results["threads1"][key].median, results["threads8"][key].median
    return eight / one if one and eight is not None else None


def main_table(results: Results) -> list[str]:
    notes: list[str] = []
    lines = [
        "| measure | " + " | ".join(NAMES[k] for k in KEYS) + " | msl-loadlib ÷ bitbridge "
        f"({X} faster) | bitbridge ÷ floor | rpyc ÷ floor |",
        "|---" * (len(KEYS) + 4) + "|",
    ]
    for measure, label in MEASURES.items():
        cells = [cell_text(results[measure][k], notes) for k in KEYS]
        ratios = [
            fmt_ratio(ratio(results, measure, "msl", "bitbridge")),
            fmt_ratio(ratio(results, measure, "bitbridge", "floor")),
            fmt_ratio(ratio(results, measure, "rpyc", "floor")),
        ]
        lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    thread_cells = []
    for key in KEYS:
        value = thread_ratio(results, key)
        thread_cells.append("n/a" if value is None else fmt_ratio(value))
    lines.append(
        f"| {THREADS} threads ÷ 1 thread (≤ 1{X} is no slower) | "
        + " | ".join(thread_cells)
        + " | — | — | — |"
    )
    lines.append("")
    lines += [f"[{i}] {text}  " for i, text in enumerate(notes, 1)]
    return lines


def spread_table(results: Results) -> list[str]:
    lines = [
        "| measure | " + " | ".join(NAMES[k] for k in KEYS) + " |",
        "|---" * (len(KEYS) + 1) + "|",
    ]
    for measure, label in MEASURES.items():
        cells = []
        for key in KEYS:
            cell = results[measure][key]
            if not cell.ok:
                cells.append("—")
                continue
            s = sorted(cell.samples)
            q1, q3 = (s[0], s[-1]) if len(s) < 4 else statistics.quantiles(s, n=4)[::2]
            cells.append(f"n={len(s)}, {fmt_time(q1)}{DASH}{fmt_time(q3)}, min {fmt_time(s[0])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("**met**" if met else "**missed**")


def targets_table(results: Results, memcpy: float, compute: float | None) -> list[str]:
    m = {measure: {k: results[measure][k].median for k in KEYS} for measure in MEASURES}
    rows: list[tuple[str, str, bool | None]] = []

    bb, floor, msl = m["add"]["bitbridge"], m["add"]["floor"], m["add"]["msl"]
    if bb is not None and floor is not None:
        rows.append(
            (
                f"scalar call ≤ 1.5{X} the raw-socket floor",
                f"{fmt_time(bb)} vs {fmt_time(floor)}: {bb / floor:.2f}{X}",
                bb <= 1.5 * floor,
            )
        )
    else:
        rows.append((f"scalar call ≤ 1.5{X} the raw-socket floor", "—", None))
    for measure, label, factor in (
        ("add", f"scalar call ≥ 10{X} faster than msl-loadlib", 10),
        ("echo", f"8 MiB echo ≥ 5{X} faster than msl-loadlib", 5),
        ("multiply", f"`scalar_multiply` 1M doubles ≥ 10{X} faster than msl-loadlib", 10),
    ):
        bb, msl = m[measure]["bitbridge"], m[measure]["msl"]
        if bb is not None and msl is not None:
            speed = f"{msl / bb:.2f}{X} faster" if msl >= bb else f"{bb / msl:.2f}{X} slower"
            text = f"{fmt_time(bb)} vs {fmt_time(msl)}: {speed}"
            rows.append((label, text, msl >= factor * bb))
        else:
            rows.append((label, "—", None))
    label = f"`scalar_multiply` transfer part ≤ 5{X} a memcpy of the same bytes"
    bb = m["multiply"]["bitbridge"]
    if bb is not None and compute is not None:
        transfer, same = bb - compute, 2 * memcpy
        text = (
            f"{fmt_time(bb)} {MINUS} {fmt_time(compute)} in the C call = {fmt_time(transfer)}, "
            f"vs memcpy of 8 MB in + 8 MB out {fmt_time(same)}: {transfer / same:.0f}{X}"
        )
        rows.append((label, text, transfer <= 5 * same))
    else:
        rows.append((label, "—", None))
    bb, msl = m["start"]["bitbridge"], m["start"]["msl"]
    rows.append(("start to first call ≤ 150 ms", fmt_time(bb), None if bb is None else bb <= 0.150))
    if bb is not None and msl is not None:
        text = f"{fmt_time(bb)} vs {fmt_time(msl)}: {bb / msl:.2f}{X} of it"
        rows.append(("start to first call ≤ half of msl-loadlib's", text, bb <= msl / 2))
    else:
        rows.append(("start to first call ≤ half of msl-loadlib's", "—", None))
    bb = m["close"]["bitbridge"]
    rows.append(("close ≤ 50 ms", fmt_time(bb), None if bb is None else bb <= 0.050))
    one, eight = m["threads1"]["bitbridge"], m["threads8"]["bitbridge"]
    if one is not None and eight is not None:
        text = f"{fmt_time(eight)} with {THREADS} threads vs {fmt_time(one)} with 1: "
        text += f"{eight / one:.2f}{X}"
        rows.append(
            (f"{THREADS} threads on one bridge no slower in total than 1", text, eight <= one)
        )
    else:
        rows.append((f"{THREADS} threads on one bridge no slower in total than 1", "—", None))
    lines = ["| issue-5 target | bitbridge, measured | verdict |", "|---|---|---|"]
    lines += [f"| {label} | {text} | {verdict(met)} |" for label, text, met in rows]
    return lines


def report(
    results: Results,
    contenders: dict[str, Contender],
    machine: list[str],
    memcpy: float,
    compute: float | None,
    load: str,
) -> str:
    passed = [f"- {NAMES[k]}: {c.passed}" for k, c in contenders.items() if c.passed]
    lines = [
        "# bitbridge benchmark: side by side",
        "",
        "Written by `make bench` (`benchmarks/bench.py`); see `benchmarks/README.md` for how",
        "to read it. All times are medians; every contender ran in the same run, on the same",
        "machine, measures interleaved round by round.",
        "",
        "## Medians and ratios",
        "",
        *main_table(results),
        "",
        "## Issue 5 targets",
        "",
        *targets_table(results, memcpy, compute),
        "",
        f"## Spread (samples, 25th{DASH}75th percentile, minimum)",
        "",
        *spread_table(results),
        "",
        "## What was measured",
        "",
        "- raw-socket floor: `benchmarks/floor_server.py` in the 32-bit interpreter, a Unix",
        "  socket pair, a fixed 28-byte header per request, ctypes calls into",
        "  `examples/cpp/cpp_lib32.so`; no RPC, no pickling.",
        "- plain rpyc: an rpyc classic server (`benchmarks/rpyc_server.py`) in the same 32-bit",
        "  interpreter over a Unix socket pair (TCP_NODELAY does not apply), rpyc's default",
        "  configuration (its channel zlib-compresses frames over 3000 bytes); `add` is the",
        "  cached netref `conn.modules.ctypes.CDLL(path).add`, the echo a remote",
        "  `lambda data: data`.",
        "- msl-loadlib: its own examples, `msl.examples.loadlib.Cpp64` and `Echo64`, against",
        "  its frozen 32-bit server (HTTP on 127.0.0.1 plus a pickle file per call) and its",
        "  own build of `cpp_lib32`.",
        "- bitbridge: `examples/cpp/cpp.py`'s `Cpp` and `examples/echo/echo.py`'s `Echo`.",
        "- scalar call: each call timed on its own, in rounds of about "
        f"{ADD_ROUND_SECONDS * 1e3:.0f} ms per contender, {ADD_ROUNDS} rounds.",
        f"- echo: {ECHO_BYTES} random bytes sent and returned, checked equal (the floor",
        "  hands back the `bytearray` it received into; the others a `bytes`).",
        f"- `scalar_multiply(2.5, x)` with x = {MULTIPLY_N} doubles; the result checked once.",
        "  What each contender was given:",
        *[f"  {line}" for line in passed],
        f"- memcpy reference: a numpy copy of 8,000,000 bytes takes {fmt_time(memcpy)}; the",
        f"  C call itself (timed inside the floor's 32-bit server) takes {fmt_time(compute)}.",
        f"- start to first call and close: {START_REPS} fresh servers per contender after one",
        "  discarded warm-up; close is `close()` / `shutdown_server32()` until the server",
        "  process has exited.",
        f"- threads: {THREAD_CALLS} `add` calls on one connection, from 1 thread or shared",
        f"  by {THREADS} threads; wall time from release to the last join; {THREAD_ROUNDS} rounds.",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine],
        f"- {load}",
        "",
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    faulthandler.dump_traceback_later(RUN_LIMIT, exit=True)
    wall0, busy0, own0, load0 = (
        time.perf_counter(),
        cpu_busy_seconds(),
        own_cpu_seconds(),
        loadavg(),
    )
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    results: Results = {measure: {k: Cell() for k in KEYS} for measure in MEASURES}
    python32: tuple[str, ...] | None = None
    try:
        from bitbridge.interpreter import find_interpreter

        python32 = find_interpreter().command
    except Exception as exc:
        for measure in MEASURES:
            for key in ("floor", "rpyc"):
                results[measure][key].error = f"no 32-bit interpreter: {describe_error(exc)}"
    command = python32 or ()
    factories: dict[str, Callable[[], Contender]] = {
        "floor": lambda: Floor(command),
        "rpyc": lambda: PlainRpyc(command),
        "msl": MslLoadlib,
        "bitbridge": Bitbridge,
    }

    say(f"start to first call and close: {START_REPS + 1} fresh servers each")
    measure_start_close(factories, results)

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
        try:
            guarded(contender.open_echo)
        except Exception as exc:
            fail(results, "echo", key, exc)
    try:
        say("scalar call")
        measure_add(contenders, results)
        say("8 MiB echo")
        measure_echo(contenders, results)
        say("scalar_multiply over 1M doubles")
        measure_multiply(contenders, results)
        say(f"{THREADS} threads against 1")
        measure_threads(contenders, results)
    finally:
        for key, contender in contenders.items():
            if key in HUNG:
                contender.kill()
                continue
            try:
                guarded(contender.close)
            except Exception as exc:
                say(f"{contender.name}: close failed: {describe_error(exc)}")
    memcpy = memcpy_time(8 * MULTIPLY_N)
    floor = contenders.get("floor")
    compute = (
        statistics.median(floor.compute_times)
        if isinstance(floor, Floor) and floor.compute_times
        else None
    )

    wall = time.perf_counter() - wall0
    others = (cpu_busy_seconds() - busy0) - (own_cpu_seconds() - own0)
    cores = os.cpu_count() or 1
    share = max(others, 0.0) / (wall * cores)
    if share > 0.05:
        load = (
            f"the run shared the machine: other processes used {share:.0%} of its CPU time "
            f"during the {wall:.0f} s run (load average {load0} before, {loadavg()} after)"
        )
    else:
        load = (
            f"the machine was otherwise quiet: other processes used {share:.0%} of its CPU "
            f"time during the {wall:.0f} s run (load average {load0} before, {loadavg()} after)"
        )
    machine = [
        f"date: {date}",
        f"CPU: {cpu_model()}, {cores} cores, {memory()} memory",
        f"OS: {platform.system()} {platform.release()} {platform.machine()}",
        *versions(python32),
    ]
    text = report(results, contenders, machine, memcpy, compute, load)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)
    say(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
