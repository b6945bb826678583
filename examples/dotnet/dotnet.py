"""The .NET example: a 32-bit C# assembly (dotnet_lib32.dll) called from 64-bit Python.

Run it with ``python examples/dotnet/dotnet.py`` (``make examples`` compiles the library
with ``mcs -platform:x86``; ``bitbridge mono32 install`` provisions the 32-bit Mono that
hosts it). The methods match msl-loadlib's ``DotNet64`` example, so calling code can
migrate unchanged. With ``libtype = "net"``, ``self.lib`` in the server is the assembly:
its types by namespace (``self.lib.DotNetMSL.BasicMath``), called with Python values.
"""

from __future__ import annotations

from collections.abc import Sequence

from bitbridge import Bridge, remote32, server_info


class DotNet(Bridge):
    """Wrapper around the 32-bit .NET library ``dotnet_lib32.dll``."""

    library = "dotnet_lib32.dll"
    libtype = "net"

    def __init__(self) -> None:
        # Runs in the server: one instance of each class with instance methods.
        self.basic_math = self.lib.DotNetMSL.BasicMath()
        self.array_manipulation = self.lib.DotNetMSL.ArrayManipulation()

    @remote32(copy=True)
    def get_class_names(self) -> list[str]:
        """The full names of the public classes in the assembly."""
        return self.lib.get_class_names()  # type: ignore[no-any-return]

    @remote32
    def add_integers(self, a: int, b: int) -> int:
        """``a + b`` of two C# ``int`` (32 bits, wrapping like C#)."""
        return self.basic_math.add_integers(a, b)  # type: ignore[no-any-return]

    @remote32
    def divide_floats(self, a: float, b: float) -> float:
        """``a / b`` of two C# ``float`` (single precision)."""
        return self.basic_math.divide_floats(a, b)  # type: ignore[no-any-return]

    @remote32
    def multiply_doubles(self, a: float, b: float) -> float:
        """``a * b`` of two C# ``double``."""
        return self.basic_math.multiply_doubles(a, b)  # type: ignore[no-any-return]

    @remote32
    def add_or_subtract(self, a: float, b: float, *, do_addition: bool) -> float:
        """``a + b`` if ``do_addition`` else ``a - b``, in double precision."""
        return self.basic_math.add_or_subtract(a, b, do_addition)  # type: ignore[no-any-return]

    @remote32(copy=True)
    def scalar_multiply(self, a: float, xin: Sequence[float]) -> list[float]:
        """Each element of ``xin`` (a C# ``double[]``) multiplied by ``a``.

        ``xin`` may be any sequence of numbers; a float64 numpy array or an
        ``array.array("d")`` arrives here as a ctypes array and is copied in one go.
        """
        return self.array_manipulation.scalar_multiply(a, xin)  # type: ignore[no-any-return]

    @remote32(copy=True)
    def multiply_matrices(
        self, a1: Sequence[Sequence[float]], a2: Sequence[Sequence[float]]
    ) -> list[list[float]]:
        """The matrix product ``a1 @ a2`` of two matrices given as lists of rows (C#
        ``double[,]``). ``ValueError`` when a matrix is ragged, or when the columns of ``a1``
        do not match the rows of ``a2``."""
        r1, c1 = len(a1), len(a1[0]) if len(a1) else 0
        r2, c2 = len(a2), len(a2[0]) if len(a2) else 0
        if c1 != r2:
            raise ValueError(f"cannot multiply a {r1}x{c1} matrix with a {r2}x{c2} matrix")
        return self.array_manipulation.multiply_matrices(a1, a2)  # type: ignore[no-any-return]

    @remote32
    def reverse_string(self, original: str) -> str:
        """``original`` reversed, by a C# ``string`` method of a class without a namespace."""
        return self.lib.StringManipulation().reverse_string(original)  # type: ignore[no-any-return]

    @remote32
    def add_multiple(self, a: int, b: int, c: int, d: int, e: int) -> int:
        """The sum of five integers, by a static method of a static class."""
        return self.lib.StaticClass.add_multiple(a, b, c, d, e)  # type: ignore[no-any-return]

    @remote32
    def concatenate(self, a: str, b: str, c: str, d: bool, e: str) -> str:
        """``a + b + c``, with ``e`` appended when ``d`` is true (a static method)."""
        return self.lib.StaticClass.concatenate(a, b, c, d, e)  # type: ignore[no-any-return]


def main() -> None:
    with DotNet() as dotnet:
        print(f"server: {server_info(dotnet)}")
        print(f"get_class_names() = {dotnet.get_class_names()}")
        print(f"add_integers(4, 5) = {dotnet.add_integers(4, 5)}")
        print(f"divide_floats(4.0, 5.0) = {dotnet.divide_floats(4.0, 5.0)}")
        print(f"multiply_doubles(872.24, 525.525) = {dotnet.multiply_doubles(872.24, 525.525)}")
        print(
            f"add_or_subtract(99.0, 9.0, do_addition=False) = "
            f"{dotnet.add_or_subtract(99.0, 9.0, do_addition=False)}"
        )
        print(f"scalar_multiply(2.0, [1.0, 2.0, 3.0]) = {dotnet.scalar_multiply(2.0, [1, 2, 3])}")
        a1 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        a2 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
        print(f"multiply_matrices({a1}, {a2}) = {dotnet.multiply_matrices(a1, a2)}")
        print(f"reverse_string('New Zealand') = {dotnet.reverse_string('New Zealand')!r}")
        print(f"add_multiple(11, -22, 33, -44, 55) = {dotnet.add_multiple(11, -22, 33, -44, 55)}")
        args = ("the ", "experiment ", "worked ", False, "temporarily")
        print(f"concatenate{args} = {dotnet.concatenate(*args)!r}")


if __name__ == "__main__":
    main()
