"""Many calls: a Python loop of calls against ``Bridge.map`` and ``BridgePool`` (bitbridge
only: msl-loadlib and plain rpyc have neither), with the issue's targets and a plot.

- map: ``add(i, i)`` over batches of 1 to 20,000 calls, per call, against the same calls
  in a loop; rounds interleaved, medians.
- pool: CPU-bound calls (``Cpp.circumference``, which builds its points in the server's
  Python) on one server in a loop, and on pools of 1, 2 and 3 workers with ``pool.map``.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contenders import EXAMPLE_FOLDERS
from report import X

MAP_CALLS = 20_000
MAP_SIZES = (1, 10, 100, 1_000, 10_000, MAP_CALLS)
MAP_ROUNDS = 7
POOL_CALLS, POOL_POINTS, POOL_ROUNDS = 24, 20_000, 5
POOL_WORKERS = (1, 2, 3)
MAP_TARGET, POOL_TARGET = 5.0, 1.7


@dataclass
class ManyCalls:
    """Seconds per call: the loop, map by batch size, and the pool by workers."""

    loop: list[float] = field(default_factory=list)
    mapped: dict[int, list[float]] = field(default_factory=dict)
    one_server: list[float] = field(default_factory=list)
    pool: dict[int, list[float]] = field(default_factory=dict)

    def map_speedup(self) -> float:
        return statistics.median(self.loop) / statistics.median(self.mapped[MAP_CALLS])

    def pool_speedup(self, workers: int) -> float:
        return statistics.median(self.one_server) / statistics.median(self.pool[workers])


def _per_call(run: Any, calls: int) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) / calls


def measure(say: Any) -> ManyCalls:
    """Run the map and pool measures (a few tens of seconds)."""
    for folder in EXAMPLE_FOLDERS:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    from cpp import Cpp  # type: ignore[import-not-found, unused-ignore]

    from bitbridge import BridgePool

    results = ManyCalls()
    xs = list(range(MAP_CALLS))
    say(f"many calls: a loop and map over up to {MAP_CALLS} add() calls")
    with Cpp() as cpp:
        list(cpp.map(cpp.add, xs, xs))  # warm-up
        for _ in range(MAP_ROUNDS):
            results.loop.append(_per_call(lambda: [cpp.add(x, x) for x in xs], MAP_CALLS))
            for size in MAP_SIZES:
                part = xs[:size]
                run = lambda part=part: list(cpp.map(cpp.add, part, part))  # noqa: E731
                results.mapped.setdefault(size, []).append(_per_call(run, size))
        say(f"many calls: {POOL_CALLS} CPU-bound calls on one server and on pools")
        radii, points = [1.0] * POOL_CALLS, [POOL_POINTS] * POOL_CALLS
        pools = {n: BridgePool(Cpp, workers=n) for n in POOL_WORKERS}
        try:
            for _ in range(POOL_ROUNDS):
                one = lambda: [cpp.circumference(1.0, POOL_POINTS) for _ in radii]  # noqa: E731
                results.one_server.append(_per_call(one, POOL_CALLS))
                for workers, pool in pools.items():
                    run = lambda pool=pool: list(pool.map(Cpp.circumference, radii, points))  # noqa: E731
                    results.pool.setdefault(workers, []).append(_per_call(run, POOL_CALLS))
        finally:
            for pool in pools.values():
                pool.shutdown()
    return results


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def section(results: ManyCalls, plot_name: str) -> str:
    """The many-calls section of results.md, with the plot."""
    lines = [
        "## Many calls: `Bridge.map` and `BridgePool` (bitbridge only)",
        "",
        *table(results),
        "",
        f"![per-call cost against batch size and worker count]({plot_name})",
        "",
        f"- map: `add(i, i)`; {MAP_ROUNDS} rounds, each a loop of {MAP_CALLS:,} calls and one",
        "  `map` of each size; medians of the per-call cost.",
        f"- pool: {POOL_CALLS} calls of `Cpp.circumference(1.0, {POOL_POINTS:,})` (CPU-bound: it",
        "  builds its points in the server's Python) in a loop on one server, and with",
        f"  `pool.map` on pools of {', '.join(map(str, POOL_WORKERS))} workers; "
        f"{POOL_ROUNDS} rounds, medians.",
        "",
    ]
    return "\n".join(lines)


def table(results: ManyCalls) -> list[str]:
    """Per-call costs, speed-ups and the two targets, as Markdown tables."""
    loop = statistics.median(results.loop)
    lines = [
        "| many calls (bitbridge) | per call | against the loop |",
        "|---|---|---|",
        f"| loop of {MAP_CALLS:,} `add` calls | {_us(loop)} | 1{X} |",
    ]
    for size in MAP_SIZES:
        cost = statistics.median(results.mapped[size])
        lines.append(f"| `map`, {size:,} calls | {_us(cost)} | {loop / cost:.1f}{X} |")
    one = statistics.median(results.one_server)
    lines.append(f"| {POOL_CALLS} CPU-bound calls, one server | {_us(one)} | 1{X} |")
    for workers in POOL_WORKERS:
        cost = statistics.median(results.pool[workers])
        lines.append(f"| `BridgePool`, {workers} worker(s) | {_us(cost)} | {one / cost:.2f}{X} |")
    map_met = results.map_speedup() >= MAP_TARGET
    pool_met = results.pool_speedup(2) >= POOL_TARGET
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| `map` of {MAP_CALLS:,} calls ≥ {MAP_TARGET:.0f}{X} a loop | "
        f"{results.map_speedup():.1f}{X} | **{'met' if map_met else 'missed'}** |",
        f"| 2 workers ≥ {POOL_TARGET}{X} one server, CPU-bound | "
        f"{results.pool_speedup(2):.2f}{X} | **{'met' if pool_met else 'missed'}** |",
    ]
    return lines


def plot(results: ManyCalls, outputs: list[Path]) -> None:
    """Per-call cost against batch size and worker count, as a PNG at each output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_size, by_workers) = plt.subplots(1, 2, figsize=(10, 4))
    sizes = list(MAP_SIZES)
    by_size.loglog(sizes, [statistics.median(results.mapped[s]) * 1e6 for s in sizes], "o-",
                   label="Bridge.map")  # fmt: skip
    by_size.axhline(statistics.median(results.loop) * 1e6, color="grey", linestyle="--",
                    label="a loop of calls")  # fmt: skip
    by_size.set(xlabel="calls in one map", ylabel="µs per call", title="add(i, i)")
    by_size.legend()
    workers = list(POOL_WORKERS)
    costs = [statistics.median(results.one_server)]
    costs += [statistics.median(results.pool[w]) for w in workers]
    by_workers.plot([0, *workers], [cost * 1e3 for cost in costs], "o-")
    by_workers.set_xticks([0, *workers], ["one server", *map(str, workers)])
    by_workers.set(xlabel="BridgePool workers", ylabel="ms per call",
                   title=f"CPU-bound calls, {POOL_CALLS} per run")  # fmt: skip
    figure.tight_layout()
    for output in outputs:
        output.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(output, dpi=110)
    plt.close(figure)
