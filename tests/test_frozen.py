"""The frozen server (`bitbridge server32 build`, docs/pages/frozen-server.md) hosts bridges
when no 32-bit Python is reachable. It is built once per test session, or reused when up to date."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bridges import Wrong64
from cpp import Cpp
from echo import Echo
from freezing import ROOT, one_file, one_folder

from bitbridge import InterpreterNotFound, ServerImportError, WrongArchitecture, server_info
from bitbridge.cli import main
from bitbridge.client.interpreter import provisioned_interpreter

sys.path.insert(0, str(ROOT / "tests" / "data"))

# A test that needs a build makes it when it is not up to date: about 10 s each.
pytestmark = pytest.mark.timeout(600)

# Standard modules the frozen server leaves out on purpose (provision/freeze/freeze32.py).
LEFT_OUT = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test"}
SUBMODULES = [
    "asyncio.subprocess",
    "concurrent.futures",
    "ctypes.util",
    "curses.ascii",
    "dbm.dumb",
    "email.mime.text",
    "encodings.idna",
    "http.server",
    "importlib.metadata",
    "json.tool",
    "logging.handlers",
    "multiprocessing.pool",
    "sqlite3.dump",
    "unittest.mock",
    "urllib.request",
    "wsgiref.simple_server",
    "xml.etree.ElementTree",
    "xmlrpc.server",
]


@pytest.fixture(scope="session")
def frozen() -> Path:
    """The one-folder frozen server."""
    return one_folder()


@pytest.fixture(scope="session")
def stdlib_names() -> list[str]:
    """Every standard module the provisioned 32-bit interpreter imports, and a few below."""
    python = provisioned_interpreter()
    assert python is not None
    probe = (
        "import importlib, sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        f"for name in sorted(sys.stdlib_module_names - {LEFT_OUT!r}):\n"
        "    try: importlib.import_module(name)\n"
        "    except Exception: continue\n"
        "    print(name)\n"
    )
    result = subprocess.run(
        [*python.command, "-I", "-c", probe], capture_output=True, text=True, check=True
    )
    names = [name for name in result.stdout.split() if not name.startswith("__")]
    return names + SUBMODULES


@pytest.fixture
def no_python32(monkeypatch, tmp_path):
    """No 32-bit interpreter reachable: the provisioned one hidden, the variable unset."""
    monkeypatch.delenv("BITBRIDGE_PYTHON32", raising=False)
    monkeypatch.delenv("BITBRIDGE_SERVER32", raising=False)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def installed(frozen, no_python32) -> Path:
    """The frozen server installed where bridges look for one (as `--install` does)."""
    folder = no_python32 / "server32"
    shutil.copytree(frozen.parent, folder, symlinks=True)
    return folder / frozen.name


@pytest.fixture
def named(frozen, monkeypatch, tmp_path) -> Path:
    """The frozen server named by BITBRIDGE_SERVER32; BITBRIDGE_PYTHON32 points nowhere."""
    monkeypatch.setenv("BITBRIDGE_PYTHON32", "/nowhere/python32")
    monkeypatch.setenv("BITBRIDGE_SERVER32", str(frozen))
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    return frozen


def test_echo_runs_on_the_installed_frozen_server(installed):
    with Echo() as echo:
        info = server_info(echo)
        assert (info.pointer_size, info.executable) == (4, str(installed))
        assert "frozen server" in info.interpreter
        args, kwargs = echo.send_data(1, 2.5, "three", [4, {5: b"six"}], (7j,), seven=None)
        assert args == (1, 2.5, "three", [4, {5: b"six"}], (7j,))
        assert kwargs == {"seven": None}


def test_the_server32_option_names_a_frozen_server(frozen, no_python32):
    with Echo.configure(server32=frozen)() as echo:
        info = server_info(echo)
        assert (info.pointer_size, info.executable) == (4, str(frozen))
        assert "the server32 option" in info.interpreter
        assert echo.send_data(b"x") == ((b"x",), {})


def test_cpp_runs_on_the_frozen_server_named_by_the_environment(named):
    seen = []
    with Cpp() as cpp:
        info = server_info(cpp)
        assert (info.pointer_size, info.executable) == (4, str(named))
        assert cpp.add(1, 2) == 3
        assert cpp.scalar_multiply(2.0, [1.0, 2.0, 3.0]) == [2.0, 4.0, 6.0]
        assert cpp.run_with_progress(3, lambda done, total: seen.append((done, total))) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_a_package_the_frozen_server_lacks_gets_the_refreeze_hint(named):
    from needs_numpy import NeedsNumpy

    with pytest.raises(ServerImportError) as raised:
        NeedsNumpy()
    message = str(raised.value)
    assert "cannot import 'numpy' in the server" in message  # the client's is compiled
    assert "lacks the package 'numpy'" in message
    assert "`bitbridge server32 build --imports numpy`" in message


def test_libraries_load_and_fail_as_in_the_interpreter_hosted_server(named):
    # PyInstaller's ctypes hook would hide the loader's "wrong ELF class".
    with pytest.raises(WrongArchitecture, match="wrong architecture"):
        Wrong64()


def test_the_interpreter_hosted_server_gives_no_refreeze_hint(monkeypatch):
    from needs_numpy import NeedsNumpy

    monkeypatch.delenv("BITBRIDGE_SERVER32", raising=False)

    with pytest.raises(ServerImportError, match="cannot import 'numpy' in the server") as raised:
        NeedsNumpy()
    assert "server32 build" not in str(raised.value)


def test_pure_python_packages_of_the_client_import_there_too(named):
    from uses_pytest import UsesPytest

    with UsesPytest() as bridge:
        assert bridge.pytest_file() == pytest.__file__


def test_the_whole_standard_library_is_frozen_in(named, stdlib_names):
    from stdlib_user import StdlibUser

    assert len(stdlib_names) > 200
    with StdlibUser() as user:
        assert user.unimportable(stdlib_names) == {}
        assert user.exercise() == {
            "sqlite": 3,
            "ssl": "PROTOCOL_TLS_CLIENT",
            "decimal": "0.125",
            "sha256": "e3b0c442",
            "compressed": [900, 900, 900],
            "zoneinfo": "ZoneInfo",
        }


def test_doctor_reports_the_installed_frozen_server(installed, capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"installed frozen server: in {installed.parent}\n" in out
    (line,) = [line for line in out.splitlines() if line.startswith("server interpreter:")]
    assert line.startswith(f"server interpreter: frozen server {installed}")
    assert line.endswith("32-bit")
    assert out.count(str(installed)) == 1  # the command, once


def test_a_missing_frozen_server_says_how_to_build_one(no_python32, monkeypatch):
    with pytest.raises(InterpreterNotFound) as raised:
        Echo()
    assert f"{no_python32 / 'server32'}: no frozen server installed there" in str(raised.value)
    monkeypatch.setenv("BITBRIDGE_SERVER32", "/nowhere/bitbridge-server32")
    built_by = r"BITBRIDGE_SERVER32.*/nowhere.*bitbridge server32 build"
    with pytest.raises(InterpreterNotFound, match=built_by):
        Echo()


def test_the_one_file_build_runs_too(frozen, monkeypatch, tmp_path):
    onefile = one_file()
    assert sorted(path.name for path in onefile.parent.iterdir() if path.is_file()) == sorted(
        [onefile.name, ".bitbridge-freeze.json"]
    )
    monkeypatch.setenv("BITBRIDGE_SERVER32", str(onefile))
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with Echo() as echo:
        assert server_info(echo).pointer_size == 4
        assert echo.send_data(1, b"two") == ((1, b"two"), {})
