"""The class contract: constructor arguments, results, errors, local and remote halves."""

from __future__ import annotations

import ctypes
import os
import sys
from fractions import Fraction

import pytest
import rpyc.core.netref
from bridges import CppByPath, Recorder, SystemLibc

from bitbridge import BridgeClosed, CopyError, server_info


def test_constructor_arguments_keep_their_types():
    sent_kwargs = {
        "count": 3,
        "gain": 1.5,
        "name": "dev0",
        "flags": [True, None],
        "table": {1: (2, 3)},
        "raw": b"\x01",
        "ratio": Fraction(1, 3),
        "big": 2**70,
    }
    with Recorder(1, "two", {3}, **sent_kwargs) as recorder:
        args, kwargs = recorder.received()
    assert args == (1, "two", {3})
    assert [type(a) for a in args] == [int, str, set]
    assert kwargs == sent_kwargs
    assert {k: type(v) for k, v in kwargs.items()} == {k: type(v) for k, v in sent_kwargs.items()}


def test_constructor_arguments_are_checked_in_the_client():
    from cpp import Cpp

    with pytest.raises(TypeError):
        Cpp(1)  # Cpp.__init__ takes no arguments: no server is even started


def test_remote_methods_run_in_the_server_and_local_ones_in_the_client(recorder):
    assert recorder.pid() != os.getpid()
    assert recorder.pid() == server_info(recorder).pid
    assert recorder.local_pid() == os.getpid()
    assert recorder.pointer_size() == 4


def test_remote_exception_keeps_type_and_every_frame(recorder):
    with pytest.raises(ValueError, match="deep trouble") as raised:
        recorder.fail_deeply("deep trouble")
    message = str(raised.value)
    for frame in ("fail_deeply", "_level_one", "_level_two"):
        assert f"in {frame}" in message
    assert "raise ValueError(message)" in message


def test_an_oserror_of_a_method_prints_as_it_was_raised(recorder):
    with pytest.raises(OSError, match="device busy") as raised:
        recorder.raise_oserror("device busy")
    assert str(raised.value).startswith("device busy\n")
    with pytest.raises(PermissionError) as raised:
        recorder.raise_oserror(13, "Permission denied", "/dev/port")
    assert str(raised.value).startswith("[Errno 13] Permission denied: '/dev/port'\n")
    raised.value.add_note("a note")  # a method again, not the repr rpyc copied


def test_uncopyable_result_gives_copy_error(recorder):
    with pytest.raises(CopyError, match=r"Recorder\.lock\(\) is a lock that cannot be copied"):
        recorder.lock()
    assert recorder.pid() > 0  # the bridge still works


def test_netref_result_sees_server_side_changes(recorder):
    kept = recorder.make_list()
    assert isinstance(kept, rpyc.core.netref.BaseNetref)
    kept.append(4)
    assert recorder.kept_length() == 4
    assert list(kept) == [1, 2, 3, 4]


def test_unknown_attribute_names_it(recorder):
    with pytest.raises(AttributeError, match="no_such_method"):
        recorder.no_such_method()


def test_callable_argument_runs_in_the_client(recorder):
    assert recorder.call_back(os.getpid) == os.getpid()
    assert recorder.call_back(lambda a, b: a * b, 6, 7) == 42


def test_library_by_absolute_path_without_suffix():
    with CppByPath() as cpp:
        assert cpp.add(2, 3) == 5


def test_library_by_platform_search():
    with SystemLibc() as libc:
        assert libc.abs(-5) == 5
        assert "libc.so.6" in libc.lib._name


def test_a_64_bit_interpreter_may_be_named_explicitly():
    with Recorder.configure(python32=sys.executable)() as recorder:
        assert recorder.pointer_size() == 8
        assert server_info(recorder).bits == 64


def test_configure_keeps_the_class_and_its_signature():
    import inspect

    configured = Recorder.configure(start_timeout=5)
    assert issubclass(configured, Recorder)
    assert configured.__qualname__ == "Recorder"
    assert configured.bridge_options.start_timeout == 5
    assert Recorder.bridge_options.start_timeout != 5
    assert inspect.signature(configured) == inspect.signature(Recorder)


def test_calls_after_close_raise_bridge_closed():
    recorder = Recorder()
    recorder.close()
    with pytest.raises(BridgeClosed, match="closed"):
        recorder.pid()


def test_a_netref_used_after_close_raises_bridge_closed_naming_the_bridge():
    recorder = Recorder()
    kept = recorder.make_list()
    assert len(kept) == 3
    recorder.close()
    with pytest.raises(BridgeClosed, match="this netref points into the Recorder server, which"):
        len(kept)
    with pytest.raises(BridgeClosed):
        kept.append(4)
    with pytest.raises(BridgeClosed):
        recorder.lib  # noqa: B018


def test_a_netref_of_a_server_replaced_by_restart_raises_bridge_closed():
    with Recorder() as recorder:
        kept = recorder.make_list()
        recorder.restart()
        with pytest.raises(BridgeClosed, match="closed with its bridge"):
            kept[0]
        assert recorder.make_list()[0] == 1  # the new server's


def test_a_netref_used_after_its_server_died_raises_server_crashed():
    import os
    import signal

    from bitbridge import ServerCrashed, server_info

    recorder = Recorder()
    kept = recorder.make_list()
    os.kill(server_info(recorder).pid, signal.SIGKILL)
    with pytest.raises(ServerCrashed, match=r"the Recorder server \(pid \d+\) died while one of"):
        kept[0]
    with pytest.raises(ServerCrashed, match="SIGKILL"):
        recorder.pid()  # the bridge says the same from then on
    with pytest.raises(ServerCrashed, match="SIGKILL"):
        len(kept)
    recorder.close()


def test_ctypes_structure_argument_travels_by_value(cpp):
    from cpp import FourPoints, Point

    points = FourPoints(Point(0, 0), Point(3, 0), Point(3, 4), Point(0, 4))
    assert cpp.distance_4_points(points) == 14.0
    assert isinstance(points, ctypes.Structure)


def test_server_path_holds_no_client_site_packages(recorder):
    import site
    import sysconfig

    client_site = {sysconfig.get_path("purelib"), *site.getsitepackages()}
    server_path = recorder.sys_path()
    assert not client_site & set(server_path)
    assert recorder.can_import("rpyc")
    assert recorder.can_import("bridges")  # the defining module's folder
    assert recorder.can_import("pytest")  # pure Python, found last (test_client_packages.py)


def test_crash_in_the_server_raises_server_crashed_naming_the_signal():
    import time

    from bitbridge import ServerCrashed

    recorder = Recorder()
    started = time.monotonic()
    with pytest.raises(ServerCrashed, match=r"Recorder\.segfault\(\).*signal SIGSEGV"):
        recorder.segfault()
    assert time.monotonic() - started < 2
    with pytest.raises(ServerCrashed, match="SIGSEGV"):
        recorder.pid()  # later calls say the same, at once
    recorder.close()
    with Recorder() as fresh:
        assert fresh.pointer_size() == 4
