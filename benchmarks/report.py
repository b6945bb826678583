"""How the benchmark's results are shown: the tables, the targets, the machine, results.md."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from contenders import ROOT, Contender
from measures import (
    ADD_ROUND_SECONDS,
    ADD_ROUNDS,
    ECHO_BYTES,
    KEYS,
    LINUX_KEYS,
    MEASURES,
    MULTIPLY_N,
    NAMES,
    START_REPS,
    THREAD_CALLS,
    THREAD_ROUNDS,
    THREADS,
    WINE_KEYS,
    Cell,
    Results,
    describe_error,
    say,
)

X, DASH, MINUS = "\N{MULTIPLICATION SIGN}", "\N{EN DASH}", "\N{MINUS SIGN}"


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
    """Format a ratio to three significant digits, followed by a multiplication sign."""
    return "—" if ratio is None else f"{ratio:.3g}{X}"


# --- the machine ---------------------------------------------------------------------


def loadavg() -> str:
    """The machine's one-minute load average, or ``?``."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def proc_line(path: str, prefix: str) -> str | None:
    """The first line of ``path`` that starts with ``prefix``; None if none or unreadable."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name."""
    line = proc_line("/proc/cpuinfo", "model name")
    return line.split(":", 1)[1].strip() if line else platform.processor() or "unknown"


def memory() -> str:
    """The machine's total memory in GiB."""
    line = proc_line("/proc/meminfo", "MemTotal")
    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB" if line else "unknown"


def run_text(command: list[str]) -> str:
    """The command's output on one line, or ``unknown`` and why."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({describe_error(exc)})"
    return " ".join(out.stdout.split())


def versions(python32: tuple[str, ...] | None) -> list[str]:
    """The Pythons, the packages and bitbridge's commit, a line each."""
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"client Python: {sys.version.split()[0]} ({platform.architecture()[0]})"]
    if python32:
        code = "import struct, sys; print(sys.version.split()[0], 8 * struct.calcsize('P'), 'bit')"
        lines.append(f"32-bit Python (bitbridge, rpyc, floor): {run_text([*python32, '-c', code])}")
    lines.append(f"Wine: {run_text(['wine', '--version'])}, Windows Python: {windows_python()}")
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


def windows_python() -> str:
    """The Windows Python that hosts the servers under Wine, or why there is none."""
    try:
        from bitbridge.client.wine import find_windows_python

        return find_windows_python().describe()
    except Exception as exc:
        return f"none ({describe_error(exc)})"


def load_line(wall: float, share: float, load_before: str) -> str:
    """How much of the machine other processes used during the run, in a sentence."""
    quiet = "the run shared the machine" if share > 0.05 else "the machine was otherwise quiet"
    return (
        f"{quiet}: other processes used {share:.0%} of its CPU time during the {wall:.0f} s "
        f"run (load average {load_before} before, {loadavg()} after)"
    )


def machine_facts(date: str, python32: tuple[str, ...] | None) -> list[str]:
    """The date, the machine and the versions, a line each."""
    return [
        f"date: {date}",
        f"CPU: {cpu_model()}, {os.cpu_count() or 1} cores, {memory()} memory",
        f"OS: {platform.system()} {platform.release()} {platform.machine()}",
        *versions(python32),
    ]


# --- the tables ----------------------------------------------------------------------


def cell_text(cell: Cell, notes: list[str]) -> str:
    """A cell's median, or ``failed`` / ``n/a`` with the number of its note in ``notes``."""

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
    """The median of ``top`` over that of ``bottom``, where both have one."""
    a, b = results[measure][top].median, results[measure][bottom].median
    return a / b if a is not None and b is not None and b > 0 else None


def thread_ratio(results: Results, key: str) -> float | None:
    """The 8-thread wall time over the 1-thread one."""
    one, eight = results["threads1"][key].median, results["threads8"][key].median
    return eight / one if one and eight is not None else None


def main_table(results: Results) -> list[str]:
    """The medians and ratios, with the notes the cells point to."""
    notes: list[str] = []
    lines = [
        "| measure | " + " | ".join(NAMES[k] for k in LINUX_KEYS) + " | msl-loadlib ÷ bitbridge "
        f"({X} faster) | bitbridge ÷ floor | rpyc ÷ floor |",
        "|---" * (len(LINUX_KEYS) + 4) + "|",
    ]
    for measure, label in MEASURES.items():
        cells = [cell_text(results[measure][k], notes) for k in LINUX_KEYS]
        ratios = [
            fmt_ratio(ratio(results, measure, "msl", "bitbridge")),
            fmt_ratio(ratio(results, measure, "bitbridge", "floor")),
            fmt_ratio(ratio(results, measure, "rpyc", "floor")),
        ]
        lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    thread_cells = []
    for key in LINUX_KEYS:
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


def wine_table(results: Results) -> list[str]:
    """bitbridge on the Windows DLL under Wine, each transport next to the Linux library."""
    notes: list[str] = []
    keys = ("bitbridge", *WINE_KEYS)
    lines = [
        "| measure | bitbridge, Linux library | "
        + " | ".join(NAMES[k] for k in WINE_KEYS)
        + " | "
        + " | ".join(f"{NAMES[k].removeprefix('bitbridge under ')} ÷ Linux" for k in WINE_KEYS)
        + " |",
        "|---" * (2 * len(WINE_KEYS) + 2) + "|",
    ]
    for measure, label in MEASURES.items():
        cells = [cell_text(results[measure][k], notes) for k in keys]
        cells += [fmt_ratio(ratio(results, measure, k, "bitbridge")) for k in WINE_KEYS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"[{i}] {text}  " for i, text in enumerate(notes, 1)]
    return lines


def spread_table(results: Results) -> list[str]:
    """Sample count, 25th to 75th percentile and minimum of every cell."""
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
    """**met**, **missed** or not measured."""
    return "not measured" if met is None else ("**met**" if met else "**missed**")


def targets_table(results: Results, memcpy: float, compute: float | None) -> list[str]:
    """Issue 5's targets, each with bitbridge's numbers and its verdict."""
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


# --- the report ----------------------------------------------------------------------


def render(
    results: Results,
    contenders: dict[str, Contender],
    machine: list[str],
    memcpy: float,
    compute: float | None,
    load: str,
) -> str:
    """The whole report, in Markdown."""
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
        "## Windows DLLs under Wine",
        "",
        *wine_table(results),
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
        "- bitbridge under Wine: `CppWindows` (the same C++ source built by mingw into",
        "  `cpp_lib32.dll`) and `Echo` hosted by the 32-bit Windows Python of `bitbridge wine",
        "  install`, their servers under Wine, over the inherited socket",
        "  (`wine_server_fd_to_handle`) or over TCP with the secret's handshake",
        "  (`BITBRIDGE_WINE_TRANSPORT=tcp`); arrays through the shared memory arena.",
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


def publish(text: str, output: Path) -> None:
    """Write the report to ``output`` and print it."""
    output.write_text(text, encoding="utf-8")
    print()
    print(text)
    say(f"written to {output}")
