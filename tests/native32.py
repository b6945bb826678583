"""Building the tests' own 32-bit C libraries with ``gcc -m32`` (``make setup`` installs
gcc-multilib)."""

from __future__ import annotations

import subprocess
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def build32(source: Path, target: Path) -> Path:
    """Compile the C file ``source`` into the 32-bit shared library ``target``."""
    run = subprocess.run(
        ["gcc", "-m32", "-shared", "-fPIC", "-O1", "-o", str(target), str(source)],
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise RuntimeError(f"gcc -m32 failed on {source}:\n{run.stderr}")
    return target
