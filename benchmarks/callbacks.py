"""What a callback from the 32-bit library into the client costs, next to a copied call.

Run it with ``.venv/bin/python benchmarks/callbacks.py`` (after ``make setup``; not part
of ``make bench`` nor of ``make test``). It measures, interleaved round by round:

- a plain call (``add(1, 2)``) and a ``copy=True`` call returning 1,000 doubles;
- a block of 1,000 doubles handed by the C library to a client callback
  (``examples/cpp``'s ``acquire``), per block: by value, and as an rpyc netref (what
  callbacks were before);
- rows of the i386 libsqlite3 handed to a client callback by ``sqlite3_exec``
  (tests/bridges.py's ``Sqlite``), per 3-column row: by value (bitbridge's callbacks),
  as rpyc netrefs (what callbacks were before: the server's netref calls as rpyc's own
  HANDLE_CALL), and the client's own 64-bit ``sqlite3`` module.

It prints the medians of the rounds, in microseconds.
"""

from __future__ import annotations

import ctypes
import dataclasses
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "examples" / "cpp"), str(ROOT / "tests"), str(Path(__file__).parent)]

from bridges import Sqlite  # noqa: E402
from cpp import Cpp  # noqa: E402

from bitbridge import Bridge, remote32  # noqa: E402

BLOCK = 1000
ROWS = 200
ROUNDS = 15


def _set_callbacks_by_value(function: Any, on: bool) -> None:
    """In the server: turn its packing of netref calls on or off (off: rpyc's own
    HANDLE_CALL, whose arguments are netrefs), on the connection of ``function``."""

    conn = object.__getattribute__(function, "____conn__")
    kept = conn._config.setdefault("kept_roles", conn.roles)
    conn._roles = kept if on else dataclasses.replace(kept, call_packer=None)


class Blocks(Bridge):
    """The calls of the comparison."""

    libtype = None

    @remote32
    def add(self, a: int, b: int) -> int:
        return a + b

    @remote32(copy=True)
    def block(self, n: int) -> Any:
        return (ctypes.c_double * n)()  # comes back as an array.array("d")


class Rows(Sqlite):
    """tests/bridges.py's Sqlite, with callbacks as they were (for the comparison only)."""

    @remote32
    def callbacks_by_value(self, function: Any, on: bool) -> None:
        _set_callbacks_by_value(function, on)


class Acquire(Cpp):
    """examples/cpp's Cpp, with callbacks as they were (for the comparison only)."""

    library = str(ROOT / "examples" / "cpp" / "cpp_lib32")

    @remote32
    def callbacks_by_value(self, function: Any, on: bool) -> None:
        _set_callbacks_by_value(function, on)


def per_call(function: Callable[[], object], calls: int) -> float:
    """Microseconds per call of ``function``, over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    samples: dict[str, list[float]] = {}

    def sample(name: str, value: float) -> None:
        samples.setdefault(name, []).append(value)

    local = sqlite3.connect(":memory:")
    with Blocks() as blocks, Acquire() as cpp, Rows() as db:
        db.execute("create table t (id integer, name text, score real)")
        rows_sql = ", ".join(f"({i}, 'row {i}', {i}.5)" for i in range(ROWS))
        db.execute(f"insert into t values {rows_sql}")
        local.execute("create table t (id integer, name text, score real)")
        local.execute(f"insert into t values {rows_sql}")
        kept: list[Any] = []
        for _ in range(ROUNDS):
            sample("add(1, 2)", per_call(lambda: blocks.add(1, 2), 200))
            sample(
                "copy=True call returning 1,000 doubles", per_call(lambda: blocks.block(BLOCK), 200)
            )
            sample(
                "a 1,000-double block to a client callback",
                per_call(lambda: cpp.acquire(100, BLOCK, lambda i, s: kept.append(s)), 1) / 100,
            )
            kept.clear()
            cpp.callbacks_by_value(print, False)
            sample(
                "a 1,000-double block to a client callback, as a netref (before)",
                per_call(lambda: cpp.acquire(2, BLOCK, lambda i, s: kept.append(list(s))), 1) / 2,
            )
            cpp.callbacks_by_value(print, True)
            kept.clear()
            sample(
                "a sqlite row to a client callback, by value",
                per_call(lambda: db.execute("select * from t", lambda r: kept.append(list(r))), 1)
                / ROWS,
            )
            kept.clear()
            db.callbacks_by_value(print, False)
            sample(
                "a sqlite row to a client callback, as rpyc netrefs (before)",
                per_call(lambda: db.execute("select * from t", lambda r: kept.append(list(r))), 1)
                / ROWS,
            )
            db.callbacks_by_value(print, True)
            kept.clear()
            sample(
                "a sqlite row of the 64-bit sqlite3 module",
                per_call(lambda: kept.extend(local.execute("select * from t")), 1) / ROWS,
            )
            kept.clear()
    width = max(map(len, samples))
    for name, values in samples.items():
        print(f"{name:<{width}}  {statistics.median(values):8.1f} us")


if __name__ == "__main__":
    main()
