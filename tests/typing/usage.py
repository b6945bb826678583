"""A user's typed code: mypy --strict must accept it (tests/test_typing.py checks)."""

from __future__ import annotations

from cpp import Cpp, FourPoints, Point
from echo import Echo

from bitbridge import Bridge, remote32


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
