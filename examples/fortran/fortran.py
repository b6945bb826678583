"""The FORTRAN example: a 32-bit FORTRAN library (fortran_lib32.so) called from 64-bit Python.

Run it with ``python examples/fortran/fortran.py`` (``make examples`` builds the library
with ``gfortran -m32`` first). The methods match msl-loadlib's ``Fortran64`` example, so
calling code can migrate unchanged. FORTRAN takes every argument by reference, so each
value is put in a ctypes object and passed by pointer; 2-D arrays are stored column by
column.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

from bitbridge import Bridge, remote32, server_info

_int8_p = ctypes.POINTER(ctypes.c_int8)
_int16_p = ctypes.POINTER(ctypes.c_int16)
_int32_p = ctypes.POINTER(ctypes.c_int32)
_int64_p = ctypes.POINTER(ctypes.c_int64)
_float_p = ctypes.POINTER(ctypes.c_float)
_double_p = ctypes.POINTER(ctypes.c_double)
_bool_p = ctypes.POINTER(ctypes.c_bool)
_char_p = ctypes.POINTER(ctypes.c_char)


def _doubles(values: Sequence[float]) -> ctypes.Array[ctypes.c_double]:
    return (ctypes.c_double * len(values))(*values)


def _shape(name: str, matrix: Sequence[Sequence[float]]) -> tuple[int, int]:
    """The (rows, columns) of a non-empty rectangular matrix given as a list of rows."""
    rows = len(matrix)
    columns = len(matrix[0]) if rows else 0
    if columns == 0:
        raise ValueError(f"{name} is empty; a matrix needs at least one row and one column")
    for i, row in enumerate(matrix):
        if len(row) != columns:
            raise ValueError(
                f"{name} is not rectangular: row 0 has {columns} values, row {i} has {len(row)}"
            )
    return rows, columns


def _column_major(
    matrix: Sequence[Sequence[float]], rows: int, columns: int
) -> ctypes.Array[ctypes.c_double]:
    flat = (ctypes.c_double * (rows * columns))()
    for r in range(rows):
        for c in range(columns):
            flat[c * rows + r] = matrix[r][c]
    return flat


class Fortran(Bridge):
    """Wrapper around the 32-bit FORTRAN library ``fortran_lib32``."""

    library = "fortran_lib32"

    def __init__(self) -> None:
        # Runs in the server, where self.lib is loaded: declare the signatures once.
        lib = self.lib
        signatures: dict[str, tuple[object, list[object]]] = {
            "sum_8bit": (ctypes.c_int8, [_int8_p, _int8_p]),
            "sum_16bit": (ctypes.c_int16, [_int16_p, _int16_p]),
            "sum_32bit": (ctypes.c_int32, [_int32_p, _int32_p]),
            "sum_64bit": (ctypes.c_int64, [_int64_p, _int64_p]),
            "multiply_float32": (ctypes.c_float, [_float_p, _float_p]),
            "multiply_float64": (ctypes.c_double, [_double_p, _double_p]),
            "is_positive": (ctypes.c_bool, [_double_p]),
            "add_or_subtract": (ctypes.c_int32, [_int32_p, _int32_p, _bool_p]),
            "factorial": (ctypes.c_double, [_int8_p]),
            "standard_deviation": (ctypes.c_double, [_double_p, _int32_p]),
            "besselj0": (ctypes.c_double, [_double_p]),
            "reverse_string": (None, [_char_p, _int32_p, _char_p]),
            "add_1d_arrays": (None, [_double_p, _double_p, _double_p, _int32_p]),
            "matrix_multiply": (
                None,
                [_double_p, _double_p, _int32_p, _int32_p, _double_p, _int32_p, _int32_p],
            ),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes

    @remote32
    def sum_8bit(self, a: int, b: int) -> int:
        """Add two 8-bit signed integers; the sum wraps around as an 8-bit integer, and so
        do arguments out of range (as ctypes converts them)."""
        return self.lib.sum_8bit(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_int8(a)), ctypes.byref(ctypes.c_int8(b))
        )

    @remote32
    def sum_16bit(self, a: int, b: int) -> int:
        """Add two 16-bit signed integers; the sum wraps around as a 16-bit integer, and so
        do arguments out of range."""
        return self.lib.sum_16bit(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_int16(a)), ctypes.byref(ctypes.c_int16(b))
        )

    @remote32
    def sum_32bit(self, a: int, b: int) -> int:
        """Add two 32-bit signed integers."""
        return self.lib.sum_32bit(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_int32(a)), ctypes.byref(ctypes.c_int32(b))
        )

    @remote32
    def sum_64bit(self, a: int, b: int) -> int:
        """Add two 64-bit signed integers (a 64-bit type in a 32-bit library)."""
        return self.lib.sum_64bit(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_int64(a)), ctypes.byref(ctypes.c_int64(b))
        )

    @remote32
    def multiply_float32(self, a: float, b: float) -> float:
        """Multiply two single-precision numbers (FORTRAN ``real(4)``)."""
        return self.lib.multiply_float32(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_float(a)), ctypes.byref(ctypes.c_float(b))
        )

    @remote32
    def multiply_float64(self, a: float, b: float) -> float:
        """Multiply two double-precision numbers (FORTRAN ``real(8)``)."""
        return self.lib.multiply_float64(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_double(a)), ctypes.byref(ctypes.c_double(b))
        )

    @remote32
    def is_positive(self, a: float) -> bool:
        """Whether ``a > 0`` (a FORTRAN ``logical`` result)."""
        return self.lib.is_positive(ctypes.byref(ctypes.c_double(a)))  # type: ignore[no-any-return]

    @remote32
    def add_or_subtract(self, a: int, b: int, *, do_addition: bool) -> int:
        """Return ``a + b`` if ``do_addition`` else ``a - b``, in 32-bit integers."""
        return self.lib.add_or_subtract(  # type: ignore[no-any-return]
            ctypes.byref(ctypes.c_int32(a)),
            ctypes.byref(ctypes.c_int32(b)),
            ctypes.byref(ctypes.c_bool(do_addition)),
        )

    @remote32
    def factorial(self, n: int) -> float:
        """``n!`` as a double for an 8-bit ``n`` (at most 127); 0.0 when ``n`` is negative."""
        return self.lib.factorial(ctypes.byref(ctypes.c_int8(n)))  # type: ignore[no-any-return]

    @remote32
    def standard_deviation(self, data: Sequence[float]) -> float:
        """The sample standard deviation of ``data`` (``n - 1`` in the denominator), so
        ``ValueError`` for fewer than two values."""
        if len(data) < 2:
            raise ValueError(f"the standard deviation needs at least two values, got {len(data)}")
        return self.lib.standard_deviation(  # type: ignore[no-any-return]
            _doubles(data), ctypes.byref(ctypes.c_int32(len(data)))
        )

    @remote32
    def besselJ0(self, x: float) -> float:
        """The Bessel function of the first kind of order 0, ``J0(x)``."""
        return self.lib.besselj0(ctypes.byref(ctypes.c_double(x)))  # type: ignore[no-any-return]

    @remote32
    def reverse_string(self, original: str) -> str:
        """Reverse ``original``: a FORTRAN ``character`` array, one byte per character, so
        only Latin-1 text (``UnicodeEncodeError`` otherwise)."""
        data = original.encode("latin-1")
        n = len(data)
        reversed_ = ctypes.create_string_buffer(n)
        self.lib.reverse_string(
            ctypes.create_string_buffer(data, n), ctypes.byref(ctypes.c_int32(n)), reversed_
        )
        return reversed_.raw.decode("latin-1")

    @remote32(copy=True)
    def add_1d_arrays(self, a1: Sequence[float], a2: Sequence[float]) -> list[float]:
        """Element-wise ``a1 + a2`` of two arrays of doubles of the same length."""
        n = len(a1)
        if len(a2) != n:
            raise ValueError(f"cannot add arrays of different lengths: {n} and {len(a2)}")
        out = (ctypes.c_double * n)()
        self.lib.add_1d_arrays(out, _doubles(a1), _doubles(a2), ctypes.byref(ctypes.c_int32(n)))
        return list(out)

    @remote32(copy=True)
    def matrix_multiply(
        self, a1: Sequence[Sequence[float]], a2: Sequence[Sequence[float]]
    ) -> list[list[float]]:
        """The matrix product ``a1 @ a2`` of two matrices given as lists of rows.

        FORTRAN stores a matrix column by column, so the rows are rearranged on the way in
        and out. ``ValueError`` when a matrix is empty or ragged, or when the number of
        columns of ``a1`` differs from the number of rows of ``a2``.
        """
        r1, c1 = _shape("a1", a1)
        r2, c2 = _shape("a2", a2)
        if c1 != r2:
            raise ValueError(
                f"cannot multiply a {r1}x{c1} matrix by a {r2}x{c2} matrix: the columns of "
                f"a1 ({c1}) must equal the rows of a2 ({r2})"
            )
        out = (ctypes.c_double * (r1 * c2))()
        self.lib.matrix_multiply(
            out,
            _column_major(a1, r1, c1),
            ctypes.byref(ctypes.c_int32(r1)),
            ctypes.byref(ctypes.c_int32(c1)),
            _column_major(a2, r2, c2),
            ctypes.byref(ctypes.c_int32(r2)),
            ctypes.byref(ctypes.c_int32(c2)),
        )
        return [[out[c * r1 + r] for c in range(c2)] for r in range(r1)]


def main() -> None:
    with Fortran() as fortran:
        print(f"server: {server_info(fortran)}")
        print(f"sum_8bit(-50, 110) = {fortran.sum_8bit(-50, 110)}")
        print(f"sum_16bit(2**15 - 1, -1) = {fortran.sum_16bit(2**15 - 1, -1)}")
        print(f"sum_32bit(123456788, 1) = {fortran.sum_32bit(123456788, 1)}")
        print(f"sum_64bit(2**62, 2**61) = {fortran.sum_64bit(2**62, 2**61)}")
        print(f"multiply_float32(40.0, 2.5) = {fortran.multiply_float32(40.0, 2.5)}")
        print(f"multiply_float64(1e200, 1e100) = {fortran.multiply_float64(1e200, 1e100)}")
        print(f"is_positive(-1e-9) = {fortran.is_positive(-1e-9)}")
        print(
            f"add_or_subtract(1000, 2000, do_addition=False) = "
            f"{fortran.add_or_subtract(1000, 2000, do_addition=False)}"
        )
        print(f"factorial(20) = {fortran.factorial(20)}")
        print(
            f"standard_deviation([1, 2, 3, 4, 5, 6]) = "
            f"{fortran.standard_deviation([1, 2, 3, 4, 5, 6])}"
        )
        print(f"besselJ0(8.0) = {fortran.besselJ0(8.0)}")
        print(f"reverse_string('hello world') = {fortran.reverse_string('hello world')!r}")
        print(
            f"add_1d_arrays([1, 2, 3], [4, 5, 6]) = {fortran.add_1d_arrays([1, 2, 3], [4, 5, 6])}"
        )
        a1 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        a2 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
        print(f"matrix_multiply({a1}, {a2}) = {fortran.matrix_multiply(a1, a2)}")


if __name__ == "__main__":
    main()
