"""Start-up failures raise quickly a StartError naming the cause, with the server's stderr."""

from __future__ import annotations

import os
import re
import sys
import time

import pytest
from bridges import HERE, FailsToStart, Missing, Recorder, Wrong64

from bitbridge import (
    InterpreterNotFound,
    LibraryNotFound,
    ServerImportError,
    StartError,
    WrongArchitecture,
)
from bitbridge.client.interpreter import first_32bit_python

sys.path.insert(0, os.path.join(HERE, "data"))


@pytest.fixture
def no_interpreter(monkeypatch, tmp_path):
    monkeypatch.delenv("BITBRIDGE_PYTHON32", raising=False)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))


def test_no_interpreter_says_where_it_looked_and_how_to_fix(no_interpreter, tmp_path):
    with pytest.raises(InterpreterNotFound) as raised:
        Recorder()
    message = str(raised.value)
    assert "BITBRIDGE_PYTHON32: not set" in message
    assert str(tmp_path / "python32") in message
    assert "bitbridge python32 install" in message


def test_interpreter_named_by_environment_must_exist(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_PYTHON32", "/nowhere/python32")
    with pytest.raises(InterpreterNotFound, match=r"BITBRIDGE_PYTHON32.*/nowhere/python32"):
        Recorder()


def test_environment_variable_wins_over_the_provisioned_interpreter(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_PYTHON32", sys.executable)
    with Recorder() as recorder:
        assert recorder.pointer_size() == 8


@pytest.mark.parametrize("program", ["/bin/false", "/bin/cat", "/bin/echo"])
def test_an_interpreter_that_is_not_python_fails_fast(program):
    started = time.monotonic()
    with pytest.raises(StartError, match=f"(?s)exited before it was ready.*{program}"):
        Recorder.configure(python32=program)()
    assert time.monotonic() - started < 5


def test_missing_library_lists_the_paths_tried():
    with pytest.raises(LibraryNotFound) as raised:
        Missing()
    message = str(raised.value)
    assert os.path.join(HERE, "no_such_library_anywhere.so") in message
    assert os.path.join(HERE, "no_such_library_anywhere") in message
    assert "platform search" in message


def test_64_bit_library_says_wrong_architecture():
    with pytest.raises(WrongArchitecture, match="wrong architecture") as raised:
        Wrong64()
    assert "cpp_lib64.so" in str(raised.value)


def test_import_failure_in_the_server_carries_its_traceback():
    from broken_import import Broken

    with pytest.raises(ServerImportError) as raised:
        Broken()
    message = str(raised.value)
    assert "broken_import.py" in message
    assert "No module named 'package_that_the_server_lacks'" in message
    assert "import package_that_the_server_lacks" in message


def test_hanging_import_fails_within_the_start_timeout():
    from hanging_import import Hangs
    from processes import process_gone

    started = time.monotonic()
    with pytest.raises(StartError, match="did not become ready within 2") as raised:
        Hangs.configure(start_timeout=2)()
    assert time.monotonic() - started < 6
    pid = int(re.search(r"server pid (\d+)", str(raised.value)).group(1))
    assert process_gone(pid)


def test_a_server_running_another_bitbridge_release_fails_with_the_fix(monkeypatch, tmp_path):
    # A real server on a copy of bitbridge that says it is another release.
    import shutil

    from bitbridge import paths

    copy = tmp_path / "bitbridge"
    shutil.copytree(paths.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    init = copy / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "0.0.1"', init.read_text()))
    own = paths.package_locations()
    monkeypatch.setattr(paths, "package_locations", lambda: {**own, "bitbridge": str(copy)})
    with pytest.raises(StartError) as raised:
        Recorder()
    message = str(raised.value)
    assert re.search(r"the server runs bitbridge 0\.0\.1, the client bitbridge \S+", message)
    assert "same release" in message


def started_servers() -> set:
    from bitbridge.client.process import running_servers

    return set(running_servers())


def test_an_exception_of_the_servers_init_keeps_its_type_and_traceback():
    before = started_servers()
    with pytest.raises(ValueError, match="no device on port 'COM9'") as raised:
        FailsToStart("value")
    assert not isinstance(raised.value, StartError)
    message = str(raised.value)
    assert "Remote Traceback" in message
    assert "in __init__" in message
    assert """raise ValueError("no device on port 'COM9'")""" in message
    assert started_servers() == before  # its server was killed and reaped
    if sys.version_info >= (3, 11):
        (note,) = raised.value.__notes__
        pid = int(re.search(r"pid (\d+), which was stopped", note).group(1))
        from processes import process_gone

        assert process_gone(pid)


def test_an_oserror_of_the_servers_init_keeps_errno_strerror_and_filename():
    with pytest.raises(FileNotFoundError) as raised:
        FailsToStart("file")
    error = raised.value
    assert (error.errno, error.strerror, error.filename) == (2, "No such device", "/dev/ttyUSB9")
    assert str(error).startswith("[Errno 2] No such device: '/dev/ttyUSB9'\n")
    with pytest.raises(OSError, match="device busy") as raised:
        FailsToStart("busy")
    assert raised.value.errno is None
    assert str(raised.value).startswith("device busy\n")  # not "[Errno None] None: None"


def test_the_py_launchers_listing_gives_its_first_32_bit_python():
    # `py -0p` of Python 3.12's launcher, and of older ones (Windows only runs it; the
    # Windows suite under Wine shows that the lookup runs and reports no launcher there).
    python311 = "C:\\Users\\me\\AppData\\Local\\Programs\\Python311-32\\python.exe"
    python312 = "C:\\Program Files\\Python312\\python.exe"
    listing = f" -V:3.12 *        {python312}\n -V:3.11-32       {python311}\n"
    found = first_32bit_python(listing)
    assert found is not None
    assert found.command == (python311,)
    assert found.origin == "the py launcher (3.11-32)"
    older = first_32bit_python(" -3.9-32        C:\\Python39-32\\python.exe\n")
    assert older is not None
    assert older.command == ("C:\\Python39-32\\python.exe",)
    assert first_32bit_python(" -V:3.12 *        C:\\Python312\\python.exe\n") is None
