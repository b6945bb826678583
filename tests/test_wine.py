"""Windows DLLs from this Linux client: a bridge whose library is a Windows DLL runs its
server in the 32-bit Windows Python under Wine, with no change to the class."""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import rpyc
from bridges import CPP_FOLDER, HERE, Recorder
from cpp import CppWindows
from echo import Echo
from processes import fd_count
from wine_bridges import TEST_DLL, Item, WineTest
from wine_tools import ROOT, build_dll, started_under_wine, windows_python

from bitbridge import InterpreterNotFound, StartError, WrongArchitecture, server_info
from bitbridge.client import wine
from bitbridge.wire import shm

CPP_DLL = Path(CPP_FOLDER, "cpp_lib32.dll")
CPP_SO = Path(CPP_FOLDER, "cpp_lib32.so")


@pytest.fixture(scope="module", params=["fd", "tcp"])
def wine_test(request):
    build_dll(Path(HERE, "data", "wine_test.c"), Path(TEST_DLL), "-Wl,--kill-at")
    yield from started_under_wine(WineTest, request.param)


@pytest.fixture(scope="module")
def windows_recorder():
    """A bridge with no library, hosted by the Windows Python named by python32."""
    with Recorder.configure(python32=windows_python())() as recorder:
        yield recorder


def test_stdcall_function(wine_test):
    assert wine_test.add(2, 3) == 5
    assert wine_test.add(2**31 - 1, 1) == -(2**31)


def test_struct_by_value_both_ways(wine_test):
    assert wine_test.item_total(Item(7, 2.5, b"W"), 4) == 17.5
    made = wine_test.item_make(3, 0.25)
    assert type(made) is Item
    assert (made.id, made.weight, made.tag) == (3, 0.25, b"W")


def test_a_windows_error_keeps_its_type_and_the_remote_traceback(wine_test):
    with pytest.raises(PermissionError) as raised:
        wine_test.deny_access()
    assert raised.value.winerror == 5  # ERROR_ACCESS_DENIED, rebuilt in the client
    message = str(raised.value)
    assert "in deny_access" in message
    assert "wine_bridges.py" in message
    assert wine_test.add(1, 1) == 2  # and the bridge carries on


def test_an_access_violation_raises_oserror_and_the_server_lives_on(wine_test):
    with pytest.raises(OSError, match="access violation reading 0x00000010"):
        wine_test.read_address(0x10)
    assert wine_test.add(1, 1) == 2


def test_the_server_is_a_windows_process_with_its_bytecode_kept_apart(wine_test):
    own_pid, kernel32_pid = wine_test.process_id()
    assert own_pid == kernel32_pid
    assert own_pid != server_info(wine_test).pid  # that one is the Linux process
    platform, executable, pycache = wine_test.platform()
    assert platform == "win32"
    assert executable == wine.winpath(windows_python())
    assert pycache.endswith("\\wine\\pycache")
    for folder in (ROOT / "src", Path(rpyc.__file__).parent):  # the client's own files
        assert list(folder.glob("**/*cpython-314*")) == []


def test_python32_naming_an_exe_hosts_any_bridge_under_wine(windows_recorder):
    assert windows_recorder.received() == ((), {})
    assert windows_recorder.pointer_size() == 4
    # The client's site-packages reach it only through the last finder, which refuses
    # compiled packages (server/client_packages.py).
    with pytest.raises(ModuleNotFoundError, match=r"'numpy' in the server.*compiled code"):
        windows_recorder.can_import("numpy")


@pytest.mark.parametrize("transport", ["fd", "tcp"])
def test_concurrent_calls_overlap_in_a_server_under_wine(transport, monkeypatch):
    monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", transport)
    with Recorder.configure(python32=windows_python(), concurrent=True)() as recorder:
        with ThreadPoolExecutor(4) as pool:
            most_active = max(pool.map(recorder.busy, [0.2] * 8))
        assert most_active > 1  # server threads reading and writing the one connection
        seen = []
        assert recorder.call_back(seen.append, 1) is None
        assert seen == [1]


def test_remote_python_error_keeps_its_type_and_traceback(windows_recorder):
    with pytest.raises(ValueError, match="deep down") as raised:
        windows_recorder.fail_deeply("deep down")
    message = str(raised.value)
    assert "_level_two" in message
    assert wine.winpath(Path(HERE, "bridges.py")) in message


def test_callbacks_reach_the_linux_client(windows_recorder):
    assert windows_recorder.call_back(lambda x: x * 2, 21) == 42


def test_which_libraries_run_under_wine():
    near = Path(CPP_FOLDER)
    assert wine.pe_machine(CPP_DLL) == "i386"
    assert wine.pe_machine(CPP_SO) is None
    assert wine.pe_machine(windows_python()) == "i386"
    assert wine.needs_wine("cpp_lib32.dll", "cdll", near)
    assert not wine.needs_wine("cpp_lib32", "cdll", near)  # the .so comes first on Linux
    assert not wine.needs_wine("libc.so.6", "cdll", near)  # not a file: the platform's search
    assert not wine.needs_wine(None, None, near)
    assert not wine.needs_wine("dotnet_lib32.dll", "net", near)  # .NET runs on Mono
    assert wine.needs_wine("kernel32", "windll", near)  # the Windows API (examples/kernel32)
    assert wine.needs_wine("ole32", "oledll", near)
    assert wine.needs_wine(None, None, near, python32="C:\\Python\\python.exe")
    assert not wine.needs_wine("cpp_lib32.dll", "cdll", near, python32="/usr/bin/python3")


def test_a_64_bit_windows_dll_is_refused_with_the_reason(tmp_path):
    header = bytearray(256)
    header[:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, 0x80)
    header[0x80:0x86] = b"PE\0\0" + struct.pack("<H", 0x8664)
    dll = tmp_path / "vendor64.dll"
    dll.write_bytes(header)
    assert wine.pe_machine(dll) == "x86-64"
    with pytest.raises(WrongArchitecture, match=r"for x86-64.*i386 DLLs only"):
        wine.needs_wine(str(dll), "cdll", tmp_path)


def test_missing_windows_python_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("BITBRIDGE_WINE_PYTHON", raising=False)
    with pytest.raises(InterpreterNotFound) as raised:
        WineTest()
    message = str(raised.value)
    assert "Windows DLL" in message
    assert "bitbridge wine install" in message
    assert str(tmp_path / "wine" / "python") in message


def test_a_windows_python_that_is_not_one_is_refused(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_WINE_PYTHON", str(CPP_SO))
    with pytest.raises(InterpreterNotFound, match="not a Windows program"):
        WineTest()


def test_missing_wine_names_the_packages(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StartError) as raised:
        WineTest()
    assert "Wine is not installed" in str(raised.value)
    assert "wine32:i386" in str(raised.value)


def test_an_unknown_transport_is_refused(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", "pigeon")
    with pytest.raises(StartError, match="BITBRIDGE_WINE_TRANSPORT is 'pigeon'"):
        WineTest()


def test_the_prefix_is_bitbridges_own(wine_test):
    prefix = Path(os.environ["BITBRIDGE_WINE_PREFIX"])
    assert (prefix / "system.reg").is_file()
    with open(f"/proc/{server_info(wine_test).pid}/environ", "rb") as environ:
        variables = environ.read().split(b"\0")
    assert f"WINEPREFIX={prefix}".encode() in variables
    assert not any(v.startswith((b"DISPLAY=", b"PYTHON")) for v in variables)


def test_arrays_share_an_arena_that_stays_bounded_and_goes_at_close():
    fds_before = fd_count()
    with CppWindows() as cpp:
        arena = cpp.__dict__["_bitbridge_session"].process.arena
        assert arena is not None
        for _ in range(3):
            for size in (1, 1000, 2_000_000):
                values = np.ones(size)
                cpp.scalar_multiply_in_place(2.0, values)  # written in place, in the arena
                assert values[-1] == 2.0
                assert cpp.scalar_multiply(1.0, values)[-1] == 2.0  # a result in the arena
        assert os.fstat(arena.fd).st_blocks * 512 <= 4 * shm.KEEP_BYTES  # memory in use
        ident = arena.ident
    assert ident not in shm.ARENAS
    with open("/proc/self/maps") as maps:
        assert not [line for line in maps if line.split()[4] == str(ident)]
    assert fd_count() == fds_before


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_large_bytes_travel_through_the_arena_both_ways_and_keep_their_type(kind):
    data = kind(os.urandom(3 << 20))
    with Echo.configure(python32=windows_python())() as echo:
        (received,), _ = echo.send_data(data)  # a copied result, as large
    assert type(received) is kind
    assert received == data
