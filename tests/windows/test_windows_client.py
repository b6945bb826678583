"""The bitbridge client on Windows: this file runs in the 32-bit Windows Python under Wine
(tests/test_windows_suite.py), where a bridge starts a Windows server the Windows way:
``socket.share``, a new process group, Windows paths and DLL search, windll and oledll."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest
from bridges import CPP_FOLDER, HERE, Missing, Recorder, Wrong64
from windows_bridges import Ole32, Peer

from bitbridge import InterpreterNotFound, LibraryNotFound, WrongArchitecture, server_info
from bitbridge.client import interpreter

CLIENT = os.path.join(HERE, "data", "client_then_sleep.py")
SYNCHRONIZE, WAIT_OBJECT_0 = 0x00100000, 0
IUNKNOWN = "{00000000-0000-0000-C000-000000000046}"


def exits_within(pid: int, seconds: float) -> bool:
    """Whether the Windows process ``pid`` ends within ``seconds`` (or has ended)."""
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = ctypes.c_void_p
    handle = kernel32.OpenProcess(SYNCHRONIZE, False, pid)
    if not handle:
        return True
    try:
        return kernel32.WaitForSingleObject(ctypes.c_void_p(handle), int(seconds * 1000)) == 0
    finally:
        kernel32.CloseHandle(ctypes.c_void_p(handle))


def test_client_and_server_are_32_bit_windows_processes(recorder):
    assert sys.platform == "win32"
    info = server_info(recorder)
    assert info.pointer_size == 4
    assert info.pid != os.getpid()
    assert info.executable == sys.executable
    assert not exits_within(info.pid, 0)


def test_the_server_holds_the_other_end_of_the_clients_socket_pair():
    with Peer() as peer:
        session = peer.__dict__["_bitbridge_session"]
        server_end, server_peer = peer.connection_ends()
        client_socket = session.process.socket
        # socket.share handed the server the pair's other end: each is the other's peer.
        assert tuple(server_peer) == client_socket.getsockname()
        assert tuple(server_end) == client_socket.getpeername()


def run_client(mode: str) -> tuple[subprocess.Popen[str], int]:
    """A Windows client in another process (this interpreter and its paths)."""
    code = (
        f"import runpy, sys; sys.path[:0] = {sys.path!r}; sys.argv = {[CLIENT, HERE, mode]!r}; "
        f"sys.pycache_prefix = {sys.pycache_prefix!r}; "
        f"runpy.run_path({CLIENT!r}, run_name='__main__')"
    )
    client = subprocess.Popen(
        [sys.executable, "-u", "-I", "-c", code], stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None
    return client, int(client.stdout.readline())


@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_the_server_exits_when_its_windows_client_is_killed(mode):
    client, server_pid = run_client(mode)
    assert not exits_within(server_pid, 0.2)
    client.kill()  # TerminateProcess
    client.wait()
    assert exits_within(server_pid, 5)


def test_the_server_exits_when_its_windows_client_exits_without_close():
    client, server_pid = run_client("exit-without-close")
    assert client.wait(60) == 0
    assert exits_within(server_pid, 5)


def test_a_remote_error_keeps_its_type_and_a_traceback_with_windows_paths(recorder):
    with pytest.raises(ValueError, match="raised on Windows") as raised:
        recorder.fail_deeply("raised on Windows")
    message = str(raised.value)
    assert "_level_two" in message
    assert os.path.join(HERE, "bridges.py") in message  # Z:\...\tests\bridges.py


def test_oledll_raises_a_failing_hresult_as_oserror():
    with Ole32() as ole32:
        assert ole32.lib._name == "ole32.dll"
        assert ole32.clsid_from_string(IUNKNOWN) == bytes(8) + bytes([0xC0]) + bytes(6) + b"\x46"
        with pytest.raises(OSError, match="WinError -2147221005") as raised:
            ole32.clsid_from_string("not a class id")
        assert raised.value.winerror == -2147221005  # CO_E_CLASSSTRING
        assert "in clsid_from_string" in str(raised.value)


def test_a_library_next_to_the_module_is_found_as_a_dll(cpp):
    assert cpp.lib._name == os.path.join(CPP_FOLDER, "cpp_lib32.dll")


def test_a_missing_library_lists_the_windows_paths_tried():
    with pytest.raises(LibraryNotFound) as raised:
        Missing()
    message = str(raised.value)
    assert os.path.join(HERE, "no_such_library_anywhere.dll") in message
    assert "no_such_library_anywhere.dll (platform search)" in message


def test_a_linux_library_is_refused_as_the_wrong_architecture():
    with pytest.raises(WrongArchitecture, match=r"cpp_lib64\.so.*WinError 193"):
        Wrong64()


def test_without_an_interpreter_the_py_launcher_is_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("BITBRIDGE_PYTHON32")
    monkeypatch.delenv("BITBRIDGE_SERVER32", raising=False)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert interpreter.py_launcher_32bit() is None  # Wine has no py launcher
    with pytest.raises(InterpreterNotFound) as raised:
        Recorder()
    assert "the py launcher (py -0p): no 32-bit Python installed" in str(raised.value)
    assert str(tmp_path) in str(raised.value)  # where it looked for a provisioned one
