"""``make test-matrix``: the bridge's core tests with every client Python on this machine.

Each 64-bit CPython 3.10 to 3.13 found (``python3.X`` on PATH, then pyenv's
``~/.pyenv/versions/*/bin/python3.X``) gets a venv of its own in ``.nox/`` with
bitbridge and its test extra; its tests run against the same 32-bit server (the one
provisioned by ``make setup``). A version not found is reported and skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import nox

VERSIONS = ("3.10", "3.11", "3.12", "3.13")
#: A fast, meaningful subset: values, ctypes values across layouts, the C++ example,
#: callbacks, start errors, lifetime, dependencies, in-process and logging.
CORE_TESTS = (
    "tests/test_echo.py",
    "tests/test_ctypes_values.py",
    "tests/test_layouts.py",
    "tests/test_cpp.py",
    "tests/test_callbacks.py",
    "tests/test_start_errors.py",
    "tests/test_lifetime.py",
    "tests/test_dependencies.py",
    "tests/test_in_process.py",
    "tests/test_logging.py",
)
ROOT = Path(__file__).resolve().parent

nox.options.sessions = ["clients"]


def _executable(python: str, version: str) -> str | None:
    """The interpreter that ``python`` runs, if it is a 64-bit CPython ``version`` (a
    pyenv shim of a version that is not selected fails here)."""
    probe = (
        "import platform, sys; "
        "print(platform.python_version(), sys.maxsize > 2**32, sys.executable)"
    )
    try:
        output = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split(maxsplit=2)
    except OSError:
        return None
    if len(output) == 3 and output[0].startswith(version + ".") and output[1] == "True":
        return output[2].strip()
    return None


def find_client(version: str) -> str | None:
    """Return a working 64-bit ``python<version>`` of this machine, or None."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(
        glob.glob(os.path.join(pyenv_root, "versions", "*", "bin", f"python{version}")),
        reverse=True,
    )
    for candidate in candidates:
        if candidate and (executable := _executable(candidate, version)):
            return executable
    return None


CLIENTS = {version: find_client(version) for version in VERSIONS}
print("client Pythons:")
for version, found in CLIENTS.items():
    print(f"  {version}: {found or 'not found (skipped)'}")


@nox.session(python=False)
@nox.parametrize("version", VERSIONS)
def clients(session: nox.Session, version: str) -> None:
    """Run the core tests with the client Python ``version``."""
    python = CLIENTS[version]
    if python is None:
        session.skip(f"no 64-bit python{version} found on PATH or in pyenv")
    venv = ROOT / ".nox" / f"client-{version}"
    venv_python = venv / "bin" / "python"
    if not venv_python.exists():
        session.run(python, "-m", "venv", str(venv), external=True)
    session.run(
        str(venv_python),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-e",
        f"{ROOT}[test]",
        external=True,
    )
    session.run(
        str(venv_python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # The frozen server is built by the main venv's tests; the matrix is about clients.
        "-k",
        "not frozen",
        *CORE_TESTS,
        *session.posargs,
        external=True,
    )
