"""The Windows test suite: part of the tests, run by pytest inside the 32-bit Windows Python
under Wine, where the bitbridge client is a Windows process that starts Windows servers
(``socket.share``, spawning, windll and oledll, Windows paths, the examples' DLLs).

One Wine run for the session (tests/windows/run_pytest.py); each test function of the
files it runs is reported here as a test of its own, with what failed on Windows.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sysconfig
from typing import Any

import pytest
from wine_tools import BUILD, ROOT

from bitbridge.client import wine

#: What runs on Windows: the examples' tests and the Windows client's own.
WINDOWS_FILES = [
    "tests/test_cpp.py",
    "tests/test_callbacks.py",
    "tests/test_callbacks_sqlite.py",
    "tests/test_fortran.py",
    "tests/test_kernel32.py",
    "tests/test_echo.py",
    "tests/windows/test_windows_client.py",
]
RUNNER = ROOT / "tests" / "windows" / "run_pytest.py"
RUN_LIMIT = 240  # seconds for the whole Windows run


def functions_of(path: str) -> list[str]:
    """The test functions that a file defines at its top level."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return [
        f"{path}::{node.name}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


WINDOWS_TESTS = [test for path in WINDOWS_FILES for test in functions_of(path)]


@pytest.fixture(scope="module")
def windows_run() -> dict[str, Any]:
    """Run the Windows suite once: its exit code, each test's outcome, its output."""
    BUILD.mkdir(parents=True, exist_ok=True)
    outcomes = BUILD / "windows-suite.json"
    outcomes.unlink(missing_ok=True)
    wine.warm_up()
    command = [
        *wine.find_windows_python().command,
        "-u",
        "-I",
        wine.winpath(RUNNER),
        wine.winpath(outcomes),
        wine.winpath(sysconfig.get_paths()["purelib"]),
        wine.winpath(BUILD / "pycache"),
        *WINDOWS_FILES,
        "-q",
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=wine.environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,  # pipes: a Windows Python under Wine dies with a file there
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert outcomes.exists(), f"the Windows run wrote no outcomes:\n{output}"
    run: dict[str, Any] = json.loads(outcomes.read_text(encoding="utf-8"))
    run["output"] = output
    return run


def cases_of(run: dict[str, Any], test: str) -> dict[str, dict[str, str]]:
    return {
        nodeid: entry
        for nodeid, entry in run["tests"].items()
        if nodeid == test or nodeid.startswith(f"{test}[")
    }


@pytest.mark.timeout(RUN_LIMIT + 60)
@pytest.mark.parametrize("test", WINDOWS_TESTS)
def test_on_windows(windows_run, test):
    cases = cases_of(windows_run, test)
    assert cases, f"{test} did not run on Windows:\n{windows_run['output'][-3000:]}"
    failed = {nodeid: entry for nodeid, entry in cases.items() if entry["outcome"] != "passed"}
    assert not failed, "\n".join(
        f"{nodeid} {entry['outcome']} on Windows:\n{entry['details']}"
        for nodeid, entry in failed.items()
    )


@pytest.mark.timeout(RUN_LIMIT + 60)
def test_the_windows_run_passed_and_ran_only_these_tests(windows_run):
    assert windows_run["exit_code"] == 0, windows_run["output"][-3000:]
    unknown = [
        nodeid
        for nodeid in windows_run["tests"]
        if not any(nodeid == test or nodeid.startswith(f"{test}[") for test in WINDOWS_TESTS)
    ]
    assert unknown == []
