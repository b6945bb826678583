"""A user's typed code: mypy --strict must accept it (tests/test_typing.py checks)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future

from cpp import Cpp, FourPoints, Point
from echo import Echo

from bitbridge import Bridge, BridgePool, remote32


class Typed(Bridge):
    libtype = None

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    @remote32
    def scale(self, value: float) -> float:
        return value * self.gain

    @remote32(copy=True)
    def pair(self) -> tuple[int, str]:
        return 1, "one"


def use() -> None:
    with Cpp() as cpp:
        total: int = cpp.add(1, 2)
        difference: float = cpp.subtract(1.0, 2.0)
        distance: float = cpp.distance_4_points(FourPoints(Point(0, 0), Point(0, 1)))
        print(total, difference, distance)
    with Typed(gain=2.0) as typed:
        scaled: float = typed.scale(1.5)
        number, name = typed.pair()
        print(scaled, number + 1, name.upper())
    configured: type[Typed] = Typed.configure(timeout=5.0)
    with configured(3.0) as again:
        print(again.scale(1.0))
    with Echo() as echo:
        print(echo.send_data(1, key="value"))


def many_calls(xs: list[int], ys: list[int]) -> None:
    with Cpp() as cpp:
        totals: Iterator[int] = cpp.map(cpp.add, xs, ys)
        also: Iterator[int] = cpp.map(Cpp.add, xs, ys)
        print(sum(totals) + sum(also))
    with BridgePool(Cpp, workers=2) as pool:
        future: Future[int] = pool.submit(Cpp.add, 1, 2)
        difference: Future[float] = pool.submit(Cpp.subtract, 1.0, b=2.0)
        results: Iterator[int] = pool.map(Cpp.add, xs, ys, chunksize=100)
        print(future.result() + 1, difference.result(), list(results))
