"""Find the interpreter that hosts the server.

The order is: the bridge's ``python32`` option, the ``BITBRIDGE_PYTHON32`` environment
variable, the interpreter provisioned by ``bitbridge python32 install``, and on Windows
the 32-bit installs known to the ``py`` launcher.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bitbridge.errors import InterpreterNotFound

ENV_VAR = "BITBRIDGE_PYTHON32"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Interpreter:
    """A command that starts a Python interpreter, and where it was found.

    A ``frozen`` one is a standalone server executable with bitbridge's bootstrap and
    its packages built in: it is run as it is, with no script and no package paths.
    """

    command: tuple[str, ...]
    origin: str
    frozen: bool = False

    def describe(self) -> str:
        """Name the interpreter and where it came from, for messages."""
        return f"{' '.join(self.command)} (from {self.origin})"


def bitbridge_home() -> Path:
    """Return the folder where bitbridge keeps what it provisions."""
    if explicit := os.environ.get("BITBRIDGE_HOME"):
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "bitbridge"


def provisioned_folder() -> Path:
    """Return the folder of the interpreter provisioned by ``bitbridge python32 install``."""
    return bitbridge_home() / "python32"


def provisioned_interpreter() -> Interpreter | None:
    """Return the provisioned interpreter, or None when there is none."""
    manifest = provisioned_folder() / MANIFEST
    try:
        command = json.loads(manifest.read_text(encoding="utf-8"))["command"]
    except (OSError, ValueError, KeyError):
        return None
    return Interpreter(tuple(command), f"provisioned by bitbridge in {provisioned_folder()}")


def find_interpreter(explicit: str | os.PathLike[str] | None = None) -> Interpreter:
    """Return the interpreter to host a server, or raise InterpreterNotFound."""
    if explicit is not None:
        return _named(os.fspath(explicit), "the python32 option")
    if from_env := os.environ.get(ENV_VAR):
        return _named(from_env, f"${ENV_VAR}")
    looked = ["the python32 option: not given", f"${ENV_VAR}: not set"]
    if provisioned := provisioned_interpreter():
        return provisioned
    looked.append(f"{provisioned_folder()}: no interpreter provisioned there")
    if sys.platform == "win32":
        if launcher := py_launcher_32bit():
            return launcher
        looked.append("the py launcher (py -0p): no 32-bit Python installed")
    raise InterpreterNotFound(
        "no 32-bit Python interpreter was found. Looked at:\n  - "
        + "\n  - ".join(looked)
        + "\nTo fix: run `bitbridge python32 install` (Debian/Ubuntu), or install any 32-bit "
        f"Python and set {ENV_VAR} to its path, or pass python32=... to Bridge.configure()."
    )


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
    for line in listing.splitlines():
        match = re.match(r"\s*-V?:?(\d+\.\d+)-32\s+\*?\s*(.+\.exe)\s*$", line)
        if match:
            return Interpreter((match.group(2),), f"the py launcher ({match.group(1)}-32)")
    return None
