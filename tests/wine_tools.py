"""What the Linux tests of Windows DLLs share: starting bridges under Wine, the Windows
Python, and DLLs built by mingw."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from bitbridge import Bridge, server_info
from bitbridge.client.wine import find_windows_python

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "wine-tests"
B = TypeVar("B", bound=Bridge)


def windows_python() -> str:
    """The provisioned Windows python.exe (`bitbridge wine install`, run by `make test`)."""
    return find_windows_python().command[-1]


def started_under_wine(cls: type[B], transport: str) -> Iterator[B]:
    """Start a bridge whose server runs under Wine, over the given transport."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BITBRIDGE_WINE_TRANSPORT", transport)
        bridge = cls()
    with bridge:
        assert server_info(bridge).pointer_size == 4
        assert server_info(bridge).interpreter.startswith("Windows Python under ")
        yield bridge


def build_dll(source: Path, output: Path, *flags: str) -> Path:
    """Build a 32-bit Windows DLL from C with mingw, unless it is up to date."""
    if output.exists() and output.stat().st_mtime >= source.stat().st_mtime:
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    command = ["i686-w64-mingw32-gcc", "-shared", "-O2", *flags, "-o", str(output), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return output
