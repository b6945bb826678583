"""Every method of the .NET example, against the real dotnet_lib32.dll in 32-bit Mono."""

from __future__ import annotations

import array
import math
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from dotnet import DotNet

from bitbridge import LibraryLoadError, LibraryNotFound, server_info
from bitbridge.dotnet import NetError
from bitbridge.server.library import load_library

CLASS_NAMES = [
    "DotNetMSL.BasicMath",
    "DotNetMSL.ArrayManipulation",
    "StringManipulation",
    "StaticClass",
]
A1 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
A2 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def test_runs_in_32_bit_mono(dotnet):
    assert server_info(dotnet).pointer_size == 4
    assert dotnet.lib.mono_version.startswith("6.")


def test_get_class_names(dotnet):
    names = dotnet.get_class_names()
    assert names == CLASS_NAMES
    assert type(names) is list


def test_add_integers(dotnet):
    assert dotnet.add_integers(4, 5) == 9
    assert dotnet.add_integers(-(2**31), 2**31 - 1) == -1


def test_add_integers_wraps_like_csharp(dotnet):
    assert dotnet.add_integers(2**31 - 1, 1) == -(2**31)


def test_divide_floats_is_single_precision(dotnet):
    assert dotnet.divide_floats(4.0, 5.0) == _float32(0.8)
    assert dotnet.divide_floats(1.0, 0.0) == math.inf


def test_multiply_doubles(dotnet):
    assert dotnet.multiply_doubles(872.24, 525.525) == 872.24 * 525.525


def test_add_or_subtract(dotnet):
    assert dotnet.add_or_subtract(99.0, 9.0, do_addition=True) == 108.0
    assert dotnet.add_or_subtract(99.0, 9.0, do_addition=False) == 90.0


def test_add_or_subtract_needs_do_addition_by_keyword(dotnet):
    with pytest.raises(TypeError):
        dotnet.add_or_subtract(1.0, 2.0, True)


def test_scalar_multiply(dotnet):
    result = dotnet.scalar_multiply(2.0, [-1, 0, 1.5])
    assert result == [-2.0, 0.0, 3.0]
    assert type(result) is list
    assert dotnet.scalar_multiply(3.0, range(4)) == [0.0, 3.0, 6.0, 9.0]
    assert dotnet.scalar_multiply(2.0, []) == []


def test_scalar_multiply_large(dotnet):
    values = [float(i) for i in range(100_000)]
    assert dotnet.scalar_multiply(-1.0, values) == [-v for v in values]


def test_multiply_matrices(dotnet):
    result = dotnet.multiply_matrices(A1, A2)
    assert result == [[22.0, 28.0], [49.0, 64.0]]
    assert type(result) is list
    assert type(result[0]) is list
    assert dotnet.multiply_matrices(A2, A1) == [
        [9.0, 12.0, 15.0],
        [19.0, 26.0, 33.0],
        [29.0, 40.0, 51.0],
    ]
    assert dotnet.multiply_matrices([[2]], [[3.5]]) == [[7.0]]


@pytest.mark.parametrize("text", ["New Zealand", "a", "", "Ωmega ü"])
def test_reverse_string(dotnet, text):
    assert dotnet.reverse_string(text) == text[::-1]


def test_add_multiple(dotnet):
    assert dotnet.add_multiple(11, -22, 33, -44, 55) == 33


def test_concatenate(dotnet):
    args = ("the ", "experiment ", "worked ", False, "temporarily")
    assert dotnet.concatenate(*args) == "the experiment worked "
    assert dotnet.concatenate(*args[:3], True, args[4]) == "the experiment worked temporarily"


# numpy arrays where sequences are taken


def test_scalar_multiply_numpy(dotnet):
    values = np.linspace(-1.0, 1.0, 1001)
    assert dotnet.scalar_multiply(3.0, values) == pytest.approx(list(3.0 * values))
    assert dotnet.scalar_multiply(2.0, np.arange(5, dtype=np.int32)) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert dotnet.scalar_multiply(2.0, array.array("d", [1.5, 2.5])) == [3.0, 5.0]


def test_multiply_matrices_numpy(dotnet):
    a1, a2 = np.array(A1), np.array(A2)
    assert np.array_equal(dotnet.multiply_matrices(a1, a2), a1 @ a2)


def test_numpy_scalars(dotnet):
    assert dotnet.add_integers(np.int32(4), np.int64(5)) == 9
    assert dotnet.multiply_doubles(np.float64(1.5), np.float32(2.0)) == 3.0


# wrong inputs: the remote error, with its own type


def test_multiply_matrices_shape_mismatch(dotnet):
    with pytest.raises(ValueError, match="cannot multiply a 2x3 matrix with a 2x3 matrix"):
        dotnet.multiply_matrices(A1, A1)


def test_multiply_matrices_ragged(dotnet):
    with pytest.raises(ValueError, match="rows of equal length") as raised:
        dotnet.multiply_matrices([[1.0, 2.0], [3.0]], [[1.0], [2.0]])
    assert "dotnet.py" in str(raised.value)  # the remote traceback


@pytest.mark.parametrize(
    ("method", "args", "error", "message"),
    [
        ("add_integers", ("1", 2), TypeError, "expected int, got str"),
        ("add_integers", (1.5, 2), TypeError, "expected int, got float"),
        ("add_integers", (2**31, 0), OverflowError, "does not fit in a int32"),
        ("multiply_doubles", ("x", 1.0), TypeError, "expected float, got str"),
        ("scalar_multiply", (2.0, ["a"]), TypeError, "expected float, got str"),
        ("scalar_multiply", (2.0, 5), TypeError, "expected a sequence, got int"),
        ("reverse_string", (5,), TypeError, "expected str, got int"),
        ("add_multiple", (1, 2, 3, 4, "5"), TypeError, "expected int, got str"),
        ("concatenate", ("a", "b", "c", "yes", "e"), TypeError, "expected bool, got str"),
    ],
)
def test_wrong_types(dotnet, method, args, error, message):
    with pytest.raises(error, match=message):
        getattr(dotnet, method)(*args)


def test_dotnet_exception_reaches_the_client(dotnet):
    with pytest.raises(NetError) as raised:
        dotnet.reverse_string(None)  # C# dereferences null
    error = raised.value
    assert error.type_name == "System.NullReferenceException"
    assert "Object reference not set to an instance of an object" in error.text
    assert "StringManipulation.reverse_string" in error.text  # the .NET stack trace
    assert "dotnet.py" in str(error)  # and the Python one, from the server


def test_dotnet_exception_through_the_library_netref(dotnet):
    arrays = dotnet.lib.DotNetMSL.ArrayManipulation()
    with pytest.raises(NetError) as raised:
        arrays.multiply_matrices(A1, A1)
    assert raised.value.type_name == "System.ArgumentException"
    assert "cannot multiply a 2x3 matrix by a 2x3 matrix" in raised.value.text


def test_server_keeps_working_after_errors(dotnet):
    for _ in range(3):
        with pytest.raises(NetError):
            dotnet.reverse_string(None)
    assert dotnet.add_integers(1, 2) == 3


def test_unknown_names(dotnet):
    with pytest.raises(AttributeError, match=r"no \.NET type or namespace 'Nope'"):
        dotnet.lib.Nope  # noqa: B018
    with pytest.raises(TypeError, match="static: it cannot be instantiated"):
        dotnet.lib.StaticClass()


# threads


def test_threads(dotnet):
    def work(k):
        return (
            dotnet.add_multiple(k, k, k, k, k),
            dotnet.multiply_matrices([[k, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]),
            dotnet.reverse_string(f"abc{k}"),
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(40)))
    for k, (total, matrix, text) in enumerate(results):
        assert total == 5 * k
        assert matrix == [[float(k), 1.0], [0.0, 1.0]]
        assert text == f"abc{k}"[::-1]


def test_concurrent_server_threads_attach_to_mono():
    """With concurrent=True each call runs on its own server thread, each attached to Mono."""
    with DotNet.configure(concurrent=True)() as dotnet:

        def work(k):
            matrix = [[float(k + i) for i in range(4)] for _ in range(4)]
            for _ in range(20):
                assert dotnet.scalar_multiply(2.0, [k] * 50) == [2.0 * k] * 50
                assert dotnet.multiply_matrices(matrix, [[1.0] * 4] * 4)[0][0] == sum(matrix[0])
            return k

        with ThreadPoolExecutor(6) as pool:
            assert sorted(pool.map(work, range(12))) == list(range(12))


# start-up errors


def test_missing_mono_root_says_how_to_provision(tmp_path, monkeypatch):
    monkeypatch.setenv("BITBRIDGE_MONO_ROOT", str(tmp_path))
    with pytest.raises(LibraryLoadError) as raised:
        DotNet()
    message = str(raised.value)
    assert "bitbridge mono32 install" in message
    assert str(tmp_path) in message


def test_missing_assembly_lists_paths(tmp_path):
    with pytest.raises(LibraryNotFound) as raised:
        load_library("no_such_assembly", "net", tmp_path)
    message = str(raised.value)
    assert f"{tmp_path / 'no_such_assembly.dll'}: no such file" in message
    assert f"{tmp_path / 'no_such_assembly'}: no such file" in message
