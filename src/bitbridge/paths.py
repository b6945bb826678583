"""Where bitbridge keeps what it provisions, and the names both processes agree on.

Used by the client, the server and the command line: the standard library only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

#: The folder of the installed bitbridge package.
PACKAGE = Path(__file__).resolve().parent
#: The server's entry script, run as a file by the hosting interpreter.
BOOTSTRAP = PACKAGE / "server" / "bootstrap.py"

#: What the server imports from the client's environment, each from its own folder.
SERVER_PACKAGES = ("bitbridge", "rpyc", "plumbum", "typing_extensions")

#: The parts of bitbridge that only a client or the command line runs: never imported by
#: a server (tests/test_import_boundary.py), left out of a frozen one.
CLIENT_ONLY = (
    "bitbridge.client",
    "bitbridge.provision",
    "bitbridge.cli",
    "bitbridge.console",
    "bitbridge.__main__",
    "bitbridge.pytest_plugin",
)

#: The file name of a frozen server, in its folder.
FROZEN_NAME = "bitbridge-server32.exe" if sys.platform == "win32" else "bitbridge-server32"
#: What a provisioned folder says about itself.
MANIFEST = "manifest.json"

#: Names a WINEPREFIX other than ``home()/wine/prefix`` for the servers run under Wine.
WINE_PREFIX_ENV_VAR = "BITBRIDGE_WINE_PREFIX"

#: Names a Mono root other than ``home()/mono32``.
MONO_ROOT_ENV_VAR = "BITBRIDGE_MONO_ROOT"
#: The files of a Mono root, relative to it: the i386 runtime, bitbridge's helper, and
#: ``mscorlib.dll`` through the link to the system's class libraries.
MONO_RUNTIME = "usr/lib/libmonosgen-2.0.so.1"
MONO_HELPER = "usr/lib/libbbmono.so"
MONO_CORLIB = "usr/lib/mono/4.5/mscorlib.dll"
MONO_PARTS = (MONO_RUNTIME, MONO_HELPER, MONO_CORLIB)


def home() -> Path:
    """Return the folder where bitbridge keeps what it provisions."""
    if explicit := os.environ.get("BITBRIDGE_HOME"):
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "bitbridge"


def python32_folder() -> Path:
    """Return the folder of the interpreter provisioned by ``bitbridge python32 install``."""
    return home() / "python32"


def server32_folder() -> Path:
    """Return the folder where a bridge looks for an installed frozen server last."""
    return home() / "server32"


def wine_folder() -> Path:
    """Return the folder of what bitbridge keeps for Wine: ``python`` (the 32-bit Windows
    Python of ``bitbridge wine install``), ``prefix`` (its WINEPREFIX) and ``pycache``."""
    return home() / "wine"


def wine_python_folder() -> Path:
    """Return the folder of the Windows Python provisioned by ``bitbridge wine install``."""
    return wine_folder() / "python"


def wine_prefix() -> Path:
    """Return the WINEPREFIX that servers under Wine run in (bitbridge's own)."""
    if explicit := os.environ.get(WINE_PREFIX_ENV_VAR):
        return Path(explicit)
    return wine_folder() / "prefix"


def mono_root() -> Path:
    """Return the folder of the private i386 Mono runtime (``bitbridge mono32 install``)."""
    if explicit := os.environ.get(MONO_ROOT_ENV_VAR):
        return Path(explicit)
    return home() / "mono32"


def missing_mono_parts(root: Path) -> list[str]:
    """Return the parts (MONO_PARTS) that the Mono root ``root`` lacks; [] when complete."""
    return [part for part in MONO_PARTS if not (root / part).exists()]


def read_manifest(folder: Path) -> dict[str, Any]:
    """Return what a provisioned folder's manifest says; {} when it has none."""
    try:
        details = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return details if isinstance(details, dict) else {}


def write_manifest(folder: Path, details: dict[str, Any]) -> None:
    """Write the manifest of a provisioned folder."""
    (folder / MANIFEST).write_text(json.dumps(details, indent=1), encoding="utf-8")


def package_locations() -> dict[str, str]:
    """Return the folder (or file) of each of SERVER_PACKAGES, found without importing."""
    locations = {}
    for name in SERVER_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            locations[name] = next(iter(spec.submodule_search_locations))
        elif spec.origin:
            locations[name] = spec.origin
    return locations


def library_candidates(library: Path, near: Path, suffix: str) -> list[Path]:
    """The files a library name stands for: in ``near`` unless absolute, with ``suffix``
    added unless it has it, then as it is."""
    base = library if library.is_absolute() else near / library
    if base.suffix.lower() == suffix:
        return [base]
    return [base.with_name(base.name + suffix), base]


def server_environment() -> dict[str, str]:
    """Return this process's environment without ``PYTHON*`` variables, which would
    point a 32-bit interpreter at the client's own modules."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
