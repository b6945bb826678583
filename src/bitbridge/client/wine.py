"""Wine, for the Windows DLLs of a Linux client: tell a Windows DLL from a Linux library,
find Wine and the 32-bit Windows Python that hosts the server, and give them bitbridge's
own WINEPREFIX and a quiet environment.

A bridge runs under Wine when its ``python32`` option names a ``.exe``, when its
library is a Windows DLL (a PE file), or when its ``libtype`` is ``windll`` or
``oledll`` (the Windows API's loaders: ``library = "kernel32"``). The Windows Python is,
in order: the ``python32`` option naming a ``.exe``, ``$BITBRIDGE_WINE_PYTHON``, then
the one provisioned by ``bitbridge wine install``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import struct
import subprocess
from pathlib import Path
from typing import Any

from bitbridge import paths
from bitbridge.client.interpreter import Interpreter
from bitbridge.errors import InterpreterNotFound, StartError, WrongArchitecture
from bitbridge.options import PathLike

WINE_PYTHON_ENV_VAR = "BITBRIDGE_WINE_PYTHON"
#: Picks the transport to a server under Wine: "auto" (default), "fd" or "tcp".
TRANSPORT_ENV_VAR = "BITBRIDGE_WINE_TRANSPORT"
TRANSPORTS = ("auto", "fd", "tcp")
#: The loaders of the Windows API's calling conventions.
WINDOWS_LIBTYPES = ("windll", "oledll")
#: How long bitbridge's wineserver stays after the last Windows process, in seconds.
WINESERVER_PERSISTS = 3
#: The machine field of a PE file's header.
PE_MACHINES = {0x014C: "i386", 0x8664: "x86-64", 0xAA64: "ARM64", 0x01C4: "ARM"}

QUIET = {
    "WINEDEBUG": "-all",
    # No Wine Mono or Gecko (no download prompt when a prefix is made); no wbemprox:
    # Python 3.14's _wmi, reached through the platform module, aborts in it under Wine 8.
    "WINEDLLOVERRIDES": "mscoree,mshtml=;wbemprox=d",
}

INSTALL_HINT = (
    "run `bitbridge wine install` (as root it installs them with apt), or as root:\n"
    "  dpkg --add-architecture i386 && apt-get update\n"
    "  apt-get install --no-install-recommends wine wine32:i386"
)


def winpath(path: PathLike) -> str:
    """Return the Windows name of a Linux path, through Wine's ``Z:`` drive."""
    return "Z:" + os.path.abspath(os.fspath(path)).replace("/", "\\")


def environment(prefix: Path | None = None) -> dict[str, str]:
    """Return the environment of a Wine process: bitbridge's prefix, no debug output, no
    display (never a window), no ``PYTHON*`` or other ``WINE*`` variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WINE"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(QUIET, WINEPREFIX=str(prefix or paths.wine_prefix()))
    return env


def find_wine() -> str:
    """Return the ``wine`` command, or raise StartError naming what to install."""
    wine = shutil.which("wine")
    if wine is None:
        raise StartError(
            f"Wine is not installed; Windows DLLs run under it. To fix: {INSTALL_HINT}"
        )
    debian_loaders = Path("/usr/lib/wine")
    if debian_loaders.is_dir() and not os.access(debian_loaders / "wine", os.X_OK):
        raise StartError(
            "Wine's 32-bit loader (Debian's wine32:i386) is not installed; the 32-bit "
            f"Windows Python needs it. To fix: {INSTALL_HINT}"
        )
    return wine


def warm_up(prefix: Path | None = None, timeout: float = 300.0) -> None:
    """Make sure the prefix exists and its wineserver and helper processes run, started
    with /dev/null as their standard streams.

    Otherwise the server would start them, and they would inherit its pipes and its
    socket and hold them open for seconds after it exits (a close, or a crash, would be
    seen that much later). The wineserver is started to stay
    :data:`WINESERVER_PERSISTS` seconds after the last process, so that it is still there
    when the server starts. About 60 ms when Wine is already up; the first time it makes
    the prefix (seconds, and about 600 MB).
    """
    prefix = prefix or paths.wine_prefix()
    prefix.mkdir(parents=True, exist_ok=True)
    # /dev/null for every stream, a pipe least of all: the helpers that this starts
    # would hold it open until they exit.
    quiet: dict[str, Any] = {
        "env": environment(prefix),
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "timeout": timeout,
        "check": False,
    }
    wine = find_wine()
    try:
        if wineserver := _wineserver():
            # Exit code 2 when one runs already, which then stays as it is.
            subprocess.run([wineserver, f"-p{WINESERVER_PERSISTS}"], **quiet)
        code = subprocess.run([wine, "cmd.exe", "/c", "exit"], **quiet).returncode
    except subprocess.TimeoutExpired:
        raise StartError(f"Wine did not start within {timeout:.0f} s (prefix {prefix})") from None
    if code != 0:
        raise StartError(
            f"Wine failed to start in the prefix {prefix} (`wine cmd.exe /c exit` exited "
            f"with {code}); run it by hand with WINEPREFIX={prefix} to see why."
        )


def _wineserver() -> str | None:
    """The wineserver program itself: Debian's ``wineserver`` is a script that always
    passes ``-p0`` (no persistence) first, which a later ``-p`` does not undo."""
    for program in ("/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver32"):
        if os.access(program, os.X_OK):
            return program
    return shutil.which("wineserver")


def stop_wineserver(prefix: Path | None = None) -> None:
    """End the prefix's wineserver and helper processes now (they end by themselves
    about 2 s after the last Windows process)."""
    wineserver = _wineserver()
    if wineserver is None:
        return
    subprocess.run(
        [wineserver, "-k"],
        env=environment(prefix),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def kill_group(pid: int) -> None:
    """Kill the process group that a server under Wine leads (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def pe_machine(path: PathLike) -> str | None:
    """Return the machine of a Windows executable or DLL ("i386", "x86-64", ...), or None
    when the file is not one (an MZ header pointing to a PE signature)."""
    try:
        with open(path, "rb") as file:
            header = file.read(64)
            if len(header) < 64 or header[:2] != b"MZ":
                return None
            (offset,) = struct.unpack_from("<I", header, 0x3C)
            file.seek(offset)
            signature = file.read(6)
    except OSError:
        return None
    if len(signature) < 6 or signature[:4] != b"PE\0\0":
        return None
    (machine,) = struct.unpack_from("<H", signature, 4)
    return PE_MACHINES.get(machine, f"machine {machine:#06x}")


def needs_wine(
    library: PathLike | None,
    libtype: str | None,
    near: Path,
    python32: PathLike | None = None,
    server32: PathLike | None = None,
) -> bool:
    """Whether a bridge with these settings runs in a Windows Python under Wine (on
    Linux); raise WrongArchitecture for a Windows DLL that is not 32-bit x86."""
    if python32 is not None:
        return os.fspath(python32).lower().endswith(".exe")
    if server32 is not None or libtype in (None, "net"):
        return False
    if libtype in WINDOWS_LIBTYPES:
        return True
    if library is None:
        return False
    for candidate in _library_files(Path(library), near):
        machine = pe_machine(candidate)
        if machine == "i386":
            return True
        if machine is not None:
            raise WrongArchitecture(
                f"{candidate} is a Windows DLL for {machine}; bitbridge runs Windows DLLs in "
                "a 32-bit Windows Python under Wine, which loads i386 DLLs only. Use the "
                "library's 32-bit build."
            )
        if candidate.is_file():
            return False  # a Linux library: the Linux server loads it
    return False


def _library_files(library: Path, near: Path) -> list[Path]:
    """The files the Linux server would try, then the same name as a ``.dll``."""
    files = paths.library_candidates(library, near, ".so")
    files += [f for f in paths.library_candidates(library, near, ".dll") if f not in files]
    return files


def transport() -> str:
    """Return the transport asked for by ``$BITBRIDGE_WINE_TRANSPORT`` ("auto" unless set)."""
    chosen = os.environ.get(TRANSPORT_ENV_VAR, "auto").strip().lower() or "auto"
    if chosen not in TRANSPORTS:
        raise StartError(f"${TRANSPORT_ENV_VAR} is {chosen!r}; use one of {', '.join(TRANSPORTS)}")
    return chosen


def provisioned_windows_python() -> Path | None:
    """Return the python.exe that ``bitbridge wine install`` provisioned, or None."""
    folder = paths.wine_python_folder()
    executable = folder / str(paths.read_manifest(folder).get("executable", ""))
    return executable if executable.is_file() and executable != folder else None


def find_windows_python(explicit: PathLike | None = None) -> Interpreter:
    """Return the Windows Python that hosts a server under Wine, or raise
    InterpreterNotFound (or StartError when Wine itself is missing)."""
    looked = []
    if explicit is not None:
        return _windows_python(Path(explicit), "the python32 option")
    looked.append("the python32 option: no .exe named")
    if from_env := os.environ.get(WINE_PYTHON_ENV_VAR):
        return _windows_python(Path(from_env), f"${WINE_PYTHON_ENV_VAR}")
    looked.append(f"${WINE_PYTHON_ENV_VAR}: not set")
    if provisioned := provisioned_windows_python():
        return _windows_python(provisioned, f"provisioned by bitbridge in {provisioned.parent}")
    looked.append(f"{paths.wine_python_folder()}: no Windows Python provisioned there")
    raise InterpreterNotFound(
        "this bridge's library is a Windows DLL, which runs in a 32-bit Windows Python under "
        "Wine, and none was found. Looked at:\n  - "
        + "\n  - ".join(looked)
        + "\nTo fix: run `bitbridge wine install`, or set "
        f"{WINE_PYTHON_ENV_VAR} to a 32-bit Windows python.exe."
    )


def _windows_python(executable: Path, origin: str) -> Interpreter:
    if not executable.is_file():
        raise InterpreterNotFound(
            f"the Windows Python named by {origin}, {os.fspath(executable)!r}, does not exist. "
            "Point it at a 32-bit Windows python.exe, or run `bitbridge wine install`."
        )
    machine = pe_machine(executable)
    if machine != "i386":
        raise InterpreterNotFound(
            f"the Windows Python named by {origin}, {os.fspath(executable)!r}, is "
            f"{'not a Windows program' if machine is None else f'for {machine}'}; bitbridge "
            "runs a 32-bit (i386) python.exe under Wine. Run `bitbridge wine install`."
        )
    return Interpreter((find_wine(), str(executable.resolve())), origin, wine=True)
