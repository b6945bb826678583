"""Every method of the FORTRAN example, against the real 32-bit fortran_lib32.so (and on
Windows, which the Windows suite runs under Wine, fortran_lib32.dll)."""

from __future__ import annotations

import ctypes
import inspect
import math
import random
import statistics
import struct
import sys

import pytest
from fortran import Fortran


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def _matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [
        [math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in zip(*b, strict=True)]
        for row in a
    ]


def _bessel_j0(x: float) -> float:
    """J0 from its power series: sum of (-1)^k (x/2)^(2k) / (k!)^2."""
    terms = [(-1) ** k * (x / 2) ** (2 * k) / math.factorial(k) ** 2 for k in range(60)]
    return math.fsum(terms)


def test_library_is_the_32_bit_build(fortran):
    assert fortran.lib._name.endswith("fortran_lib32.dll" if sys.platform == "win32" else ".so")


@pytest.mark.parametrize(
    ("a", "b", "total"), [(1, 2, 3), (-50, 110, 60), (-128, 127, -1), (0, 0, 0)]
)
def test_sum_8bit(fortran, a, b, total):
    assert fortran.sum_8bit(a, b) == total


@pytest.mark.parametrize(
    ("a", "b", "total"), [(127, 1, -128), (-128, -1, 127), (100, 100, -56), (127, 127, -2)]
)
def test_sum_8bit_wraps_around(fortran, a, b, total):
    assert fortran.sum_8bit(a, b) == total


def test_sum_8bit_arguments_out_of_range_wrap(fortran):
    # ctypes keeps the low 8 bits of each argument: 200 -> -56, 256 -> 0.
    assert fortran.sum_8bit(200, 0) == -56
    assert fortran.sum_8bit(256, 5) == 5


@pytest.mark.parametrize(
    ("a", "b", "total"), [(1000, -2000, -1000), (2**15 - 1, -1, 2**15 - 2), (-(2**15), 0, -(2**15))]
)
def test_sum_16bit(fortran, a, b, total):
    assert fortran.sum_16bit(a, b) == total


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [(2**15 - 1, 1, -(2**15)), (-(2**15), -1, 2**15 - 1), (30000, 30000, -5536)],
)
def test_sum_16bit_wraps_around(fortran, a, b, total):
    assert fortran.sum_16bit(a, b) == total


def test_sum_32bit(fortran):
    assert fortran.sum_32bit(123456788, 1) == 123456789
    assert fortran.sum_32bit(2**31 - 2, 1) == 2**31 - 1
    assert fortran.sum_32bit(-(2**31) + 1, -1) == -(2**31)


def test_sum_64bit_is_64_bit_in_a_32_bit_process(fortran):
    assert fortran.sum_64bit(2**40, 2**40) == 2**41
    assert fortran.sum_64bit(2**62, 2**62 - 1) == 2**63 - 1
    assert fortran.sum_64bit(-(2**63) + 5, -5) == -(2**63)


def test_multiply_float32_is_single_precision(fortran):
    assert fortran.multiply_float32(40.0, 2.5) == 100.0
    assert fortran.multiply_float32(0.1, 3.0) == _float32(_float32(0.1) * 3.0)
    assert fortran.multiply_float32(0.1, 3.0) != 0.1 * 3.0
    assert fortran.multiply_float32(1e30, 1e30) == math.inf


def test_multiply_float64(fortran):
    assert fortran.multiply_float64(0.1, 3.0) == 0.1 * 3.0
    assert fortran.multiply_float64(1e200, 1e100) == 1e300
    assert fortran.multiply_float64(-2.5, 4.0) == -10.0


@pytest.mark.parametrize(
    ("a", "positive"),
    [(1.0, True), (1e-300, True), (0.0, False), (-0.0, False), (-1e-9, False), (math.nan, False)],
)
def test_is_positive(fortran, a, positive):
    result = fortran.is_positive(a)
    assert result is positive


def test_add_or_subtract(fortran):
    assert fortran.add_or_subtract(1000, 2000, do_addition=True) == 3000
    assert fortran.add_or_subtract(1000, 2000, do_addition=False) == -1000
    assert fortran.add_or_subtract(-7, -7, do_addition=False) == 0


def test_add_or_subtract_needs_do_addition_by_keyword(fortran):
    with pytest.raises(TypeError):
        fortran.add_or_subtract(1, 2, True)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 20])
def test_factorial_exact(fortran, n):
    assert fortran.factorial(n) == float(math.factorial(n))


def test_factorial_largest_8_bit(fortran):
    assert fortran.factorial(127) == pytest.approx(float(math.factorial(127)), rel=1e-12)


def test_factorial_of_a_negative_number_is_zero(fortran):
    assert fortran.factorial(-5) == 0.0
    assert fortran.factorial(128) == 0.0  # 128 is -128 as an 8-bit integer


@pytest.mark.parametrize(
    "data", [[1, 2, 3, 4, 5, 6], [2.5, 2.5], [-1e3, 0.5, 7.25, 1e3, 42.0], list(range(10_000))]
)
def test_standard_deviation(fortran, data):
    assert fortran.standard_deviation(data) == pytest.approx(statistics.stdev(data), rel=1e-12)


@pytest.mark.parametrize("data", [[], [1.0]])
def test_standard_deviation_needs_two_values(fortran, data):
    with pytest.raises(ValueError, match="at least two values"):
        fortran.standard_deviation(data)


@pytest.mark.parametrize("x", [0.0, 0.5, 1.0, 2.404825557695773, -3.0, 8.0, 10.0])
def test_besselJ0(fortran, x):
    assert fortran.besselJ0(x) == pytest.approx(_bessel_j0(x), abs=1e-12)


def test_besselJ0_known_values(fortran):
    assert fortran.besselJ0(0.0) == 1.0
    assert fortran.besselJ0(2.404825557695773) == pytest.approx(0.0, abs=1e-15)  # first zero


@pytest.mark.parametrize("text", ["hello world", "a", "", "ab cd ef", "a\x00b", "café ÿ"])
def test_reverse_string(fortran, text):
    assert fortran.reverse_string(text) == text[::-1]


def test_reverse_string_long(fortran):
    text = "".join(chr(32 + i % 95) for i in range(100_000))
    assert fortran.reverse_string(text) == text[::-1]


def test_reverse_string_takes_latin_1_only(fortran):
    with pytest.raises(UnicodeEncodeError):
        fortran.reverse_string("10 €")


def test_add_1d_arrays(fortran):
    result = fortran.add_1d_arrays([1, 2, 3], [4.5, -5, 6e10])
    assert result == [5.5, -3.0, 6e10 + 3]
    assert type(result) is list


def test_add_1d_arrays_large_and_empty(fortran):
    a1 = [float(i) for i in range(50_000)]
    a2 = [0.5 * i for i in range(50_000)]
    assert fortran.add_1d_arrays(a1, a2) == [1.5 * i for i in range(50_000)]
    assert fortran.add_1d_arrays([], []) == []


def test_add_1d_arrays_of_different_lengths(fortran):
    with pytest.raises(ValueError, match="different lengths: 2 and 3"):
        fortran.add_1d_arrays([1.0, 2.0], [1.0, 2.0, 3.0])


def test_matrix_multiply(fortran):
    a1 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    a2 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    result = fortran.matrix_multiply(a1, a2)
    assert result == [[22.0, 28.0], [49.0, 64.0]]
    assert type(result) is list
    assert all(type(row) is list for row in result)
    assert fortran.matrix_multiply(a2, a1) == [
        [9.0, 12.0, 15.0],
        [19.0, 26.0, 33.0],
        [29.0, 40.0, 51.0],
    ]


@pytest.mark.parametrize(
    ("r1", "c1", "c2"), [(1, 1, 1), (1, 4, 1), (4, 1, 3), (7, 5, 4), (3, 3, 3)]
)
def test_matrix_multiply_shapes(fortran, r1, c1, c2):
    rng = random.Random(f"{r1}x{c1}x{c2}")
    a1 = [[rng.uniform(-10, 10) for _ in range(c1)] for _ in range(r1)]
    a2 = [[rng.uniform(-10, 10) for _ in range(c2)] for _ in range(c1)]
    result = fortran.matrix_multiply(a1, a2)
    expected = _matmul(a1, a2)
    assert len(result) == r1
    for row, expected_row in zip(result, expected, strict=True):
        assert row == pytest.approx(expected_row, rel=1e-12, abs=1e-12)


def test_matrix_multiply_shape_mismatch(fortran):
    with pytest.raises(ValueError, match=r"cannot multiply a 2x3 matrix by a 2x3 matrix"):
        fortran.matrix_multiply([[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize(
    ("a1", "a2", "message"),
    [
        ([[1, 2], [3]], [[1], [2]], "a1 is not rectangular: row 0 has 2 values, row 1 has 1"),
        ([[1], [2]], [[1, 2], [3]], "a2 is not rectangular"),
        ([], [[1]], "a1 is empty"),
        ([[1]], [[]], "a2 is empty"),
    ],
)
def test_matrix_multiply_bad_shapes(fortran, a1, a2, message):
    with pytest.raises(ValueError, match=message):
        fortran.matrix_multiply(a1, a2)


def test_wrong_argument_types_raise_the_remote_type_error(fortran):
    with pytest.raises(TypeError) as raised:
        fortran.sum_8bit("1", 2)
    assert "fortran.py" in str(raised.value)  # the remote traceback
    with pytest.raises(TypeError):
        fortran.multiply_float64(None, 1.0)
    with pytest.raises(TypeError):
        fortran.standard_deviation([1.0, "2"])
    with pytest.raises(TypeError):
        fortran.matrix_multiply([[1.0, "x"]], [[1.0], [2.0]])
    with pytest.raises(TypeError):
        fortran.matrix_multiply([1.0, 2.0], [[1.0], [2.0]])  # a row that is not a sequence


def test_arguments_must_be_pointers(fortran):
    # The signatures declared in __init__ make ctypes refuse a value where FORTRAN wants
    # a reference.
    with pytest.raises(ctypes.ArgumentError) as raised:
        fortran.lib.sum_32bit(1, 2)
    assert "argument 1" in str(raised.value)


def test_client_half_keeps_names_docs_and_signatures():
    assert Fortran.besselJ0.__name__ == "besselJ0"
    assert "Bessel" in Fortran.besselJ0.__doc__
    parameters = inspect.signature(Fortran.add_or_subtract).parameters
    assert parameters["do_addition"].kind is inspect.Parameter.KEYWORD_ONLY
