"""numpy arrays and scalars work wherever the examples take sequences and numbers; the
server has no numpy (the client's is compiled for the client)."""

from __future__ import annotations

import numpy as np
import pytest

#: Natively, and from Linux also against the Windows DLL under Wine (conftest.CPP_HOSTS).
CPP_EVERYWHERE = True


def test_server_has_no_numpy(recorder):
    with pytest.raises(ModuleNotFoundError, match=r"'numpy' in the server.*compiled code"):
        recorder.can_import("numpy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint8])
def test_one_dimensional_array_as_sequence(cpp, dtype):
    values = np.arange(10, dtype=dtype)
    result = cpp.scalar_multiply(2.0, values)
    assert list(result) == [2.0 * v for v in range(10)]
    assert np.asarray(result).dtype == np.float64


def test_array_arrives_as_array_array(echo):
    import array

    (received,), _ = echo.send_data(np.array([1.5, 2.5]))
    assert isinstance(received, array.array)
    assert received.typecode == "d"
    assert list(received) == [1.5, 2.5]


def test_big_endian_and_strided_arrays(echo):
    values = np.arange(12, dtype=">i4")[::3]
    (received,), _ = echo.send_data(values)
    assert list(received) == [0, 3, 6, 9]


def test_two_dimensional_array_arrives_as_nested_lists(echo):
    (received,), _ = echo.send_data(np.eye(2))
    assert received == [[1.0, 0.0], [0.0, 1.0]]


def test_numpy_scalars_arrive_as_python_numbers(cpp, echo):
    assert cpp.add(np.int32(2), np.int64(3)) == 5
    (a, b, c), _ = echo.send_data(np.float64(1.5), np.bool_(True), np.float32(0.5))
    assert (a, b, c) == (1.5, True, 0.5)
    assert (type(a), type(b), type(c)) == (float, bool, float)


def test_object_array_falls_back_to_lists(echo):
    (received,), _ = echo.send_data(np.array(["a", "bc"]))
    assert received == ["a", "bc"]
