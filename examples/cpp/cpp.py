"""The C++ example: a 32-bit C++ library (cpp_lib32.so) called from 64-bit Python.

Run it with ``python examples/cpp/cpp.py`` (``make demo`` builds the library first). The
methods match msl-loadlib's ``Cpp64`` example, so calling code can migrate unchanged.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Sequence
from typing import Any

from bitbridge import Bridge, c_callback, remote32, server_info

#: ``int (*progress_callback)(int done, int total)``
ProgressCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
#: ``int (*block_callback)(int index, const double *samples, int n)``
BlockCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.c_int
)


class Point(ctypes.Structure):
    """``struct Point { double x; double y; }``: fixed size, so it can travel by value."""

    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]


class FourPoints(ctypes.Structure):
    """``struct FourPoints { Point points[4]; }``: fixed size, so it can travel by value."""

    _fields_ = [("points", Point * 4)]

    def __init__(self, *points: Point) -> None:
        super().__init__()
        self.points = (Point * 4)(*points)


class NPoints(ctypes.Structure):
    """``struct NPoints { int n; Point *points; }``: holds a pointer, so it is built in the
    server (a 32-bit pointer means nothing to the 64-bit client)."""

    _fields_ = [("n", ctypes.c_int), ("points", ctypes.POINTER(Point))]


class Cpp(Bridge):
    """Wrapper around the 32-bit C++ library ``cpp_lib32``."""

    library = "cpp_lib32"

    def __init__(self) -> None:
        # Runs in the server, where self.lib is loaded: declare the C signatures once.
        lib = self.lib
        lib.add.restype, lib.add.argtypes = ctypes.c_int32, [ctypes.c_int32, ctypes.c_int32]
        lib.subtract.restype = ctypes.c_float
        lib.subtract.argtypes = [ctypes.c_float, ctypes.c_float]
        lib.add_or_subtract.restype = ctypes.c_double
        lib.add_or_subtract.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_bool]
        lib.scalar_multiply.restype = None
        lib.scalar_multiply.argtypes = [
            ctypes.c_double,
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_int32,
            ctypes.POINTER(ctypes.c_double),
        ]
        lib.reverse_string_v1.restype = None
        lib.reverse_string_v1.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p]
        lib.reverse_string_v2.restype = ctypes.c_void_p
        lib.reverse_string_v2.argtypes = [ctypes.c_char_p, ctypes.c_int32]
        lib.distance_4_points.restype = ctypes.c_double
        lib.distance_4_points.argtypes = [FourPoints]
        lib.distance_n_points.restype = ctypes.c_double
        lib.distance_n_points.argtypes = [NPoints]
        lib.run_with_progress.restype = ctypes.c_int
        lib.run_with_progress.argtypes = [ctypes.c_int, ProgressCallback]
        lib.acquire.restype = ctypes.c_int
        lib.acquire.argtypes = [ctypes.c_int, ctypes.c_int, BlockCallback]

    @remote32
    def add(self, a: int, b: int) -> int:
        """Add two 32-bit integers."""
        return self.lib.add(a, b)  # type: ignore[no-any-return]

    @remote32
    def subtract(self, a: float, b: float) -> float:
        """Subtract two single-precision (C ``float``) numbers."""
        return self.lib.subtract(a, b)  # type: ignore[no-any-return]

    @remote32
    def add_or_subtract(self, a: float, b: float, *, do_addition: bool) -> float:
        """Return ``a + b`` if ``do_addition`` else ``a - b``, in double precision."""
        return self.lib.add_or_subtract(a, b, do_addition)  # type: ignore[no-any-return]

    @remote32(copy=True)
    def scalar_multiply(self, a: float, xin: Sequence[float]) -> Sequence[float]:
        """Multiply each element of ``xin`` by ``a`` (double arrays in and out).

        Given a list, returns a list. Given an array (a numpy array, ``array.array``),
        which arrives here as a ctypes array over the client's memory, returns an
        ``array.array("d")``: it travels as raw bytes, and ``numpy.asarray`` wraps it
        without a copy.
        """
        n = len(xin)
        is_doubles = isinstance(xin, ctypes.Array) and xin._type_ is ctypes.c_double
        c_xin = xin if is_doubles else (ctypes.c_double * n)(*xin)
        c_xout = (ctypes.c_double * n)()
        self.lib.scalar_multiply(a, c_xin, n, c_xout)
        if isinstance(xin, ctypes.Array):
            return c_xout  # type: ignore[return-value]  # copied back as array.array("d")
        return c_xout[:]

    @remote32
    def scalar_multiply_in_place(self, a: float, values: Sequence[float]) -> None:
        """Multiply each element of the client's array ``values`` by ``a``, in place.

        ``values`` must be a float64 numpy array or an ``array.array("d")``: the library
        writes into the shared memory and the client's array holds the result.
        """
        if not isinstance(values, ctypes.Array) or values._type_ is not ctypes.c_double:
            raise TypeError(
                "scalar_multiply_in_place needs a float64 array (numpy or array.array('d')), "
                f"not {type(values).__name__}"
            )
        self.lib.scalar_multiply(a, values, len(values), values)

    @remote32
    def reverse_string_v1(self, original: str) -> str:
        """Reverse a string in a buffer that Python allocates."""
        n = len(original.encode())
        reversed_ = ctypes.create_string_buffer(n)
        self.lib.reverse_string_v1(original.encode(), n, reversed_)
        return reversed_.raw.decode()

    @remote32
    def reverse_string_v2(self, original: str) -> str:
        """Reverse a string in a buffer that the library allocates."""
        n = len(original.encode())
        address = self.lib.reverse_string_v2(original.encode(), n)
        return ctypes.string_at(address, n).decode()

    @remote32
    def distance_4_points(self, four_points: FourPoints) -> float:
        """Perimeter of the polygon through four points (a struct sent from the client)."""
        return self.lib.distance_4_points(four_points)  # type: ignore[no-any-return]

    @remote32
    def circumference(self, radius: float, n: int) -> float:
        """Estimate a circle's circumference from ``n`` points on it (a struct holding a
        pointer, built in the server)."""
        points = (Point * n)()
        for i in range(n):
            theta = 2.0 * math.pi * i / n
            points[i] = Point(radius * math.cos(theta), radius * math.sin(theta))
        return self.lib.distance_n_points(NPoints(n, points))  # type: ignore[no-any-return]

    @remote32
    def run_with_progress(self, steps: int, progress: Callable[[int, int], object]) -> int:
        """Run the library's job of ``steps`` steps; it calls ``progress(done, total)``
        after each step. ``progress`` is a plain Python callable of the client: it runs
        there, may call this bridge again, and returning True stops the job early.
        An exception it raises stops the job and reaches the caller.
        Returns the number of steps done."""

        def report(done: int, total: int) -> int:
            return 1 if progress(done, total) else 0

        with c_callback(ProgressCallback, report, error_result=1) as c_progress:
            done = self.lib.run_with_progress(steps, c_progress)
        return done  # type: ignore[no-any-return]

    @remote32
    def acquire(
        self, blocks: int, n: int, on_block: Callable[[int, Sequence[float]], object]
    ) -> int:
        """Acquire ``blocks`` blocks of ``n`` samples: the library calls back with each,
        and ``on_block(index, samples)`` runs in the client with ``samples`` an
        ``array.array("d")``, a copy of the block that stays valid. Returning True stops
        the acquisition. Returns the number of blocks done."""

        def block(index: int, samples: Any, count: int) -> int:
            # The library's buffer as a ctypes array: it crosses by value, in one message.
            view = ctypes.cast(samples, ctypes.POINTER(ctypes.c_double * count)).contents
            return 1 if on_block(index, view) else 0

        with c_callback(BlockCallback, block, error_result=1) as c_block:
            done = self.lib.acquire(blocks, n, c_block)
        return done  # type: ignore[no-any-return]


class CppWindows(Cpp):
    """The same library built for Windows by mingw (``cpp_lib32.dll``). From a Linux
    client its server runs in a 32-bit Windows Python under Wine; on Windows it is ``Cpp``."""

    library = "cpp_lib32.dll"


def main() -> None:
    with Cpp() as cpp:
        print(f"server: {server_info(cpp)}")
        print(f"add(1, 2) = {cpp.add(1, 2)}")
        print(f"subtract(43.2, 3.2) = {cpp.subtract(43.2, 3.2)}")
        print(
            f"add_or_subtract(1.0, 2.0, do_addition=False) = "
            f"{cpp.add_or_subtract(1.0, 2.0, do_addition=False)}"
        )
        print(
            f"scalar_multiply(2.0, [1.0, 2.0, 3.0]) = {cpp.scalar_multiply(2.0, [1.0, 2.0, 3.0])}"
        )
        print(f"reverse_string_v1('hello world') = {cpp.reverse_string_v1('hello world')!r}")
        print(f"reverse_string_v2('hello world') = {cpp.reverse_string_v2('hello world')!r}")
        square = FourPoints(Point(0, 0), Point(0, 1), Point(1, 1), Point(1, 0))
        print(f"distance_4_points(unit square) = {cpp.distance_4_points(square)}")
        print(f"circumference(0.5, 1000) = {cpp.circumference(0.5, 1000)}")
        seen: list[tuple[int, int]] = []
        done = cpp.run_with_progress(3, lambda done, total: seen.append((done, total)))
        print(f"run_with_progress(3, callback) = {done}, callback saw {seen}")


if __name__ == "__main__":
    main()
