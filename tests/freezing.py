"""Building the frozen server for the tests: once per session, or reused when up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The command line of the client's environment (the venv's console script).
BITBRIDGE = Path(sys.executable).with_name("bitbridge")
#: Where the tests build the one-folder and the one-file server.
ONE_FOLDER = ROOT / "build" / "freeze" / "test-server32"
ONE_FILE = ROOT / "build" / "freeze" / "test-server32-onefile"


def build(*options: str) -> Path:
    """Run `bitbridge server32 build` in the repository; return the server it reports."""
    result = subprocess.run(
        [str(BITBRIDGE), "server32", "build", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def one_folder() -> Path:
    """The one-folder server: dist/server32 if up to date, else a test build."""
    return build("--dist", str(ONE_FOLDER), "--reuse", str(ROOT / "dist" / "server32"))


def one_file() -> Path:
    """The one-file server, built for the tests."""
    return build("--onefile", "--dist", str(ONE_FILE))
