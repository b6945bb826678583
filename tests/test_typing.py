"""A user's class type-checks under mypy --strict: remote methods keep their parameter
and return types in the client, the context manager gives the user's own class."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"


def run_mypy(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run mypy --strict on ``path``; return its error lines."""
    folders = [ROOT / "examples" / "cpp", ROOT / "examples" / "echo"]
    monkeypatch.setenv("MYPYPATH", os.pathsep.join(map(str, folders)))
    out, err, _ = api.run(["--strict", "--no-incremental", "--no-error-summary", str(path)])
    assert not err, err
    return [line for line in out.splitlines() if ": error: " in line]


def test_typed_usage_passes_strict_mypy(monkeypatch):
    assert run_mypy(TYPING / "usage.py", monkeypatch) == []


def test_misuse_is_caught_where_expected(monkeypatch):
    expected = {
        number: match.group(1)
        for number, line in enumerate((TYPING / "misuse.py").read_text().splitlines(), 1)
        if (match := re.search(r"# expect: ([\w-]+)", line))
    }
    found = {}
    for line in run_mypy(TYPING / "misuse.py", monkeypatch):
        match = re.search(r"misuse\.py:(\d+): error: .*\[([\w-]+)\]$", line)
        assert match, line
        found[int(match.group(1))] = match.group(2)
    assert found == expected
