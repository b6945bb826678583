"""Side-by-side benchmark: raw-socket floor, plain rpyc, msl-loadlib 1.1.0 and bitbridge,
and bitbridge on the Windows build of the same library under Wine.

Run it with ``make bench``. Every contender calls the same kind of 32-bit library from
this 64-bit process, in one run; the measures are interleaved round by round, so a
change in the machine's load hits all of them alike. It prints a table of medians and
ratios, checks issue 5's targets and writes both to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime
import faulthandler
import sys
from pathlib import Path

import many_calls
from contenders import Bitbridge, BitbridgeWine, Floor, MslLoadlib, PlainRpyc
from measures import (
    MEASURES,
    MULTIPLY_N,
    RUN_LIMIT,
    START_REPS,
    THREADS,
    CpuUsage,
    Factories,
    close_all,
    compute_time,
    describe_error,
    measure_add,
    measure_echo,
    measure_multiply,
    measure_start_close,
    measure_threads,
    memcpy_time,
    new_results,
    say,
    start_all,
)
from report import load_line, loadavg, machine_facts, publish, render

#: The many-calls plot, written next to results.md and into the docs' images.
PLOT = "many-calls.png"
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "pages" / "images"


def main() -> int:
    """Run every measure on every contender, then print the report and write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    faulthandler.dump_traceback_later(RUN_LIMIT, exit=True)
    usage, load0 = CpuUsage(), loadavg()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    results = new_results()
    python32: tuple[str, ...] | None = None
    try:
        from bitbridge.client.interpreter import find_interpreter

        python32 = find_interpreter().command
    except Exception as exc:
        for measure in MEASURES:
            for key in ("floor", "rpyc"):
                results[measure][key].error = f"no 32-bit interpreter: {describe_error(exc)}"
    command = python32 or ()
    factories: Factories = {
        "floor": lambda: Floor(command),
        "rpyc": lambda: PlainRpyc(command),
        "msl": MslLoadlib,
        "bitbridge": Bitbridge,
        "wine_fd": lambda: BitbridgeWine("fd"),
        "wine_tcp": lambda: BitbridgeWine("tcp"),
    }

    say(f"start to first call and close: {START_REPS + 1} fresh servers each")
    measure_start_close(factories, results)
    contenders = start_all(factories, results)
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
        close_all(contenders)
    many = many_calls.measure(say)
    plots = [args.output.with_name(PLOT), DOCS_IMAGES / PLOT]
    many_calls.plot(many, plots)
    memcpy = memcpy_time(8 * MULTIPLY_N)
    compute = compute_time(contenders)

    load = load_line(*usage.others(), load0)
    machine = machine_facts(date, python32)
    report = render(results, contenders, machine, memcpy, compute, load)
    publish(report + "\n" + many_calls.section(many, PLOT), args.output)
    say(f"plot written to {', '.join(map(str, plots))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
