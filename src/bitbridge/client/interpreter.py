"""Find the interpreter, or the frozen server, that hosts the server.

The order is: the bridge's ``python32`` option, a frozen server named by the
``BITBRIDGE_SERVER32`` environment variable, the ``BITBRIDGE_PYTHON32`` environment
variable, the interpreter provisioned by ``bitbridge python32 install``, on Windows the
32-bit installs known to the ``py`` launcher, and last a frozen server installed in
bitbridge's folder (``bitbridge server32 build --install``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bitbridge import paths
from bitbridge.errors import InterpreterNotFound
from bitbridge.paths import FROZEN_NAME

ENV_VAR = "BITBRIDGE_PYTHON32"
SERVER_ENV_VAR = "BITBRIDGE_SERVER32"


@dataclass(frozen=True)
class Interpreter:
    """A command that starts a Python interpreter, and where it was found.

    A ``frozen`` one is a standalone server executable with bitbridge's bootstrap and
    its packages built in: it is run as it is, with no script and no package paths. A
    ``wine`` one is a Windows Python run by Wine (``command`` starts with ``wine``).
    """

    command: tuple[str, ...]
    origin: str
    frozen: bool = False
    wine: bool = False

    def describe(self) -> str:
        """Name the interpreter and where it came from, for messages."""
        kind = "frozen server " if self.frozen else "Windows Python under " if self.wine else ""
        return f"{kind}{' '.join(self.command)} (from {self.origin})"


def provisioned_interpreter() -> Interpreter | None:
    """Return the provisioned interpreter, or None when there is none."""
    folder = paths.python32_folder()
    command = paths.read_manifest(folder).get("command")
    if not command:
        return None
    return Interpreter(tuple(command), f"provisioned by bitbridge in {folder}")


def installed_server() -> Interpreter | None:
    """Return the frozen server installed in bitbridge's folder, or None."""
    path = paths.server32_folder() / FROZEN_NAME
    if not _executable(str(path)):
        return None
    return Interpreter((str(path),), f"installed in {paths.server32_folder()}", frozen=True)


def find_interpreter(
    explicit: str | os.PathLike[str] | None = None,
    server32: str | os.PathLike[str] | None = None,
) -> Interpreter:
    """Return the interpreter or frozen server to host a server, or raise InterpreterNotFound.

    ``explicit`` is the bridge's ``python32`` option; ``server32``, its ``server32``
    option, names a frozen server and wins over the environment.
    """
    if explicit is not None:
        return _named(os.fspath(explicit), "the python32 option")
    if server32 is not None:
        return _frozen(os.fspath(server32), "the server32 option")
    if from_env := os.environ.get(SERVER_ENV_VAR):
        return _frozen(from_env, f"${SERVER_ENV_VAR}")
    looked = ["the python32 option: not given", f"${SERVER_ENV_VAR}: not set"]
    if python := _find_python(looked):
        return python
    if installed := installed_server():
        return installed
    looked.append(f"{paths.server32_folder()}: no frozen server installed there")
    raise _not_found(
        looked,
        "or pass python32=... to Bridge.configure(), or set "
        f"{SERVER_ENV_VAR} to a frozen server (`bitbridge server32 build` makes one)",
    )


def find_python32() -> Interpreter:
    """Return a Python interpreter (never a frozen server), or raise InterpreterNotFound."""
    looked: list[str] = []
    if python := _find_python(looked):
        return python
    raise _not_found(looked)


def _not_found(looked: list[str], more_fixes: str = "") -> InterpreterNotFound:
    return InterpreterNotFound(
        "no 32-bit Python interpreter was found. Looked at:\n  - "
        + "\n  - ".join(looked)
        + "\nTo fix: run `bitbridge python32 install` (Debian/Ubuntu), or install any 32-bit "
        f"Python and set {ENV_VAR} to its path{', ' + more_fixes if more_fixes else ''}."
    )


def _find_python(looked: list[str]) -> Interpreter | None:
    """Look for a Python interpreter as configured; note in ``looked`` where it looked."""
    if from_env := os.environ.get(ENV_VAR):
        return _named(from_env, f"${ENV_VAR}")
    looked.append(f"${ENV_VAR}: not set")
    if provisioned := provisioned_interpreter():
        return provisioned
    looked.append(f"{paths.python32_folder()}: no interpreter provisioned there")
    if sys.platform == "win32":
        if launcher := py_launcher_32bit():
            return launcher
        looked.append("the py launcher (py -0p): no 32-bit Python installed")
    return None


def frozen_server_info(server: Interpreter) -> dict[str, Any]:
    """Run a frozen server with ``--info``; return what it says about itself."""
    try:
        result = subprocess.run(
            [*server.command, "--info"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OSError("it did not answer --info within 60 s") from None
    try:
        details: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise OSError(
            f"it is not a bitbridge frozen server (exit code {result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip() or 'no output'}"
        ) from None
    return details


def _frozen(path: str, origin: str) -> Interpreter:
    if os.path.isdir(path):
        path = os.path.join(path, FROZEN_NAME)
    if not _executable(path):
        raise InterpreterNotFound(
            f"the frozen server named by {origin}, {path!r}, does not exist or is not "
            f"executable. Point it at a {FROZEN_NAME} built by `bitbridge server32 build` "
            "(or its folder)."
        )
    return Interpreter((os.path.abspath(path),), origin, frozen=True)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _named(path: str, origin: str) -> Interpreter:
    resolved = shutil.which(path) if os.sep not in path and "/" not in path else path
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise InterpreterNotFound(
            f"the interpreter named by {origin}, {path!r}, does not exist or is not executable. "
            "Point it at a 32-bit python executable, or run `bitbridge python32 install`."
        )
    return Interpreter((os.path.abspath(resolved),), origin)


def py_launcher_32bit() -> Interpreter | None:
    """Return the newest 32-bit Python known to the Windows ``py`` launcher, if any."""
    launcher = shutil.which("py")
    if launcher is None:
        return None
    try:
        listing = subprocess.run(
            [launcher, "-0p"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return first_32bit_python(listing)


def first_32bit_python(listing: str) -> Interpreter | None:
    """Return the first 32-bit Python of a ``py -0p`` listing, if it names one."""
    for line in listing.splitlines():
        match = re.match(r"\s*-V?:?(\d+\.\d+)-32\s+\*?\s*(.+\.exe)\s*$", line)
        if match:
            return Interpreter((match.group(2),), f"the py launcher ({match.group(1)}-32)")
    return None
