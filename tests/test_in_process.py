"""``configure(in_process=True)``: the same classes with no server, the C++ example against
its 64-bit build (examples/cpp/cpp_lib64.so), with the bridge's calling semantics."""

from __future__ import annotations

import array
import ctypes
import os
import struct
import sys

import pytest
from bridges import Recorder
from cpp import Cpp

from bitbridge import (
    BridgeClosed,
    CopyError,
    WrongArchitecture,
    server_info,
)

CppInProcess = Cpp.configure(in_process=True, library="cpp_lib64")


@pytest.fixture(scope="module")
def cpp64():
    with CppInProcess() as bridge:
        yield bridge


@pytest.fixture
def recorder64():
    with Recorder.configure(in_process=True)("a", [1, 2], key={"x": 1}) as bridge:
        yield bridge


def test_server_info_says_in_process(cpp64):
    info = server_info(cpp64)
    assert info.pid == os.getpid()
    assert info.pointer_size == struct.calcsize("P") == 8
    assert info.interpreter == "in process"
    assert info.executable == sys.executable


def test_the_library_is_the_64_bit_build_loaded_here(cpp64):
    assert cpp64.lib._name.endswith("cpp_lib64.so")
    assert isinstance(cpp64.lib, ctypes.CDLL)  # the library itself, not a netref


def test_add_and_its_32_bit_wrap(cpp64):
    assert cpp64.add(1, 2) == 3
    assert cpp64.add(2**31 - 1, 1) == -(2**31)  # int32_t in the 64-bit build too


def test_scalar_multiply_returns_a_copy(cpp64):
    values = [1.0, -2.0, 4.0]
    result = cpp64.scalar_multiply(2.5, values)
    assert result == [2.5, -5.0, 10.0]
    assert type(result) is list
    assert values == [1.0, -2.0, 4.0]


def test_an_array_is_written_back_as_through_shared_memory(cpp64):
    values = array.array("d", [1.0, 2.0, 3.0])
    cpp64.scalar_multiply_in_place(3.0, values)
    assert values == array.array("d", [3.0, 6.0, 9.0])
    assert cpp64.scalar_multiply(2.0, values) == array.array("d", [6.0, 12.0, 18.0])


def test_a_callback_runs_and_its_exception_reaches_the_caller(cpp64):
    seen = []
    assert cpp64.run_with_progress(3, lambda done, total: seen.append((done, total))) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]

    def fail(done, total):
        raise KeyError(done)

    with pytest.raises(KeyError):
        cpp64.run_with_progress(3, fail)


def test_a_library_error_keeps_its_type(cpp64):
    with pytest.raises(ctypes.ArgumentError):
        cpp64.add("hello", "world")


def test_the_32_bit_library_is_the_wrong_architecture_in_process():
    expected = r"(?s)cpp_lib32\.so.*configure\(in_process=True, library="
    with pytest.raises(WrongArchitecture, match=expected):
        Cpp.configure(in_process=True)()


def test_arguments_are_copied_and_constructor_arguments_keep_their_types(recorder64):
    assert recorder64.received() == (("a", [1, 2]), {"key": {"x": 1}})
    values = [1]
    returned = recorder64.append_server(values)
    assert values == [1]  # the method changed its own copy
    assert returned == [1, "server"]


def test_a_result_without_copy_is_the_server_halfs_object(recorder64):
    kept = recorder64.make_list()
    kept.append(4)
    assert recorder64.kept_length() == 4


def test_remote_methods_call_each_other_as_written(recorder64):
    assert recorder64.pid_through_self() == os.getpid()
    assert recorder64.local_pid() == os.getpid()


def test_exceptions_keep_their_types(recorder64):
    with pytest.raises(ValueError, match="deep"):
        recorder64.fail_deeply("deep")
    with pytest.raises(CopyError, match=r"Recorder\.lock\(\)"):
        recorder64.lock()


def test_a_timeout_is_not_enforced_in_process(recorder64):
    assert recorder64.sleep_at_most_half_a_second(0.6) == 0.6
    assert recorder64.pid() == os.getpid()


def test_close_and_restart(recorder64):
    recorder64.close()
    with pytest.raises(BridgeClosed):
        recorder64.pid()
    recorder64.restart()
    assert recorder64.received() == (("a", [1, 2]), {"key": {"x": 1}})
