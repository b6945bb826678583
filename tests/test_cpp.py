"""Every method of the C++ example, against the real 32-bit cpp_lib32.so, and from Linux
also against its Windows build cpp_lib32.dll under Wine."""

from __future__ import annotations

import ctypes
import math
import struct
import sys

import pytest
from cpp import Cpp, FourPoints, Point

from bitbridge import server_info

#: Natively, and from Linux also against the Windows DLL under Wine (conftest.CPP_HOSTS).
CPP_EVERYWHERE = True


def test_add(cpp):
    assert cpp.add(1, 2) == 3
    assert cpp.add(-5, 3) == -2


def test_add_wraps_at_32_bits(cpp):
    assert cpp.add(2**31 - 1, 1) == -(2**31)


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def test_subtract_is_single_precision(cpp):
    assert cpp.subtract(43.2, 3.2) == _float32(_float32(43.2) - _float32(3.2))
    assert cpp.subtract(0.1, 0.0) != 0.1  # 0.1 has no exact float32


def test_add_or_subtract(cpp):
    assert cpp.add_or_subtract(0.5, 0.25, do_addition=True) == 0.75
    assert cpp.add_or_subtract(0.5, 0.25, do_addition=False) == 0.25


def test_add_or_subtract_needs_do_addition_by_keyword(cpp):
    with pytest.raises(TypeError):
        cpp.add_or_subtract(1.0, 2.0, True)


def test_scalar_multiply(cpp):
    result = cpp.scalar_multiply(2.5, [1.0, -2.0, 4.0])
    assert result == [2.5, -5.0, 10.0]
    assert type(result) is list


def test_scalar_multiply_large(cpp):
    values = [float(i) for i in range(100_000)]
    assert cpp.scalar_multiply(-1.0, values) == [-v for v in values]


def test_scalar_multiply_empty(cpp):
    assert cpp.scalar_multiply(3.0, []) == []


@pytest.mark.parametrize("method", ["reverse_string_v1", "reverse_string_v2"])
@pytest.mark.parametrize("text", ["hello world", "a", "", "ab cd ef"])
def test_reverse_string(cpp, method, text):
    assert getattr(cpp, method)(text) == text[::-1]


def test_distance_4_points(cpp):
    square = FourPoints(Point(0, 0), Point(0, 1), Point(1, 1), Point(1, 0))
    assert cpp.distance_4_points(square) == pytest.approx(4.0)
    triangle_ish = FourPoints(Point(0, 0), Point(3, 4), Point(3, 4), Point(0, 0))
    assert cpp.distance_4_points(triangle_ish) == pytest.approx(10.0)


@pytest.mark.parametrize(("radius", "n"), [(0.5, 1000), (2.0, 10_000)])
def test_circumference(cpp, radius, n):
    assert cpp.circumference(radius, n) == pytest.approx(2 * math.pi * radius, rel=1e-5)


def test_wrong_argument_type_raises_remote_argument_error(cpp):
    with pytest.raises(ctypes.ArgumentError) as raised:
        cpp.add("hello", "world")
    message = str(raised.value)
    assert "self.lib.add(a, b)" in message
    assert "cpp.py" in message


def test_lib_is_a_netref_to_the_remote_library(cpp):
    suffix = (
        ".dll" if "Windows" in server_info(cpp).interpreter or sys.platform == "win32" else ".so"
    )
    assert cpp.lib._name.endswith(f"cpp_lib32{suffix}")


def test_client_half_keeps_names_docs_and_signatures():
    import inspect

    assert Cpp.add.__name__ == "add"
    assert Cpp.add.__doc__ == "Add two 32-bit integers."
    assert str(inspect.signature(Cpp.add)) == "(self, a: 'int', b: 'int') -> 'int'"
    assert "do_addition" in inspect.signature(Cpp.add_or_subtract).parameters
