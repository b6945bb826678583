"""Run pytest in the 32-bit Windows Python under Wine, for tests/test_windows_suite.py:
the bitbridge client then runs on Windows and starts Windows servers.

Arguments: the JSON file to write each test's outcome to, the client's site-packages
folder (pytest and bitbridge's dependencies, pure Python), the folder for bytecode, and
pytest's own arguments. The standard library only until pytest is importable.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class Outcomes:
    """A pytest plugin that keeps each test's outcome and what a failure said."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, str]] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed", "details": ""})
        if report.failed:
            entry["outcome"] = "failed"
            entry["details"] += f"--- {report.when}\n{report.longreprtext}\n"
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["details"] += str(report.longrepr)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.tests[report.nodeid or "<collection>"] = {
                "outcome": "failed",
                "details": report.longreprtext,
            }


def main() -> int:
    report_file, site_packages, pycache = sys.argv[1:4]
    sys.pycache_prefix = pycache
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:0] = [os.path.join(repo, "src"), site_packages]
    # The servers of these tests run in this same Windows Python.
    os.environ["BITBRIDGE_PYTHON32"] = sys.executable
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the plugins named here
    import pytest

    outcomes = Outcomes()
    code = pytest.main(
        ["-p", "pytest_timeout", "-p", "no:cacheprovider", *sys.argv[4:]], plugins=[outcomes]
    )
    with open(report_file, "w", encoding="utf-8") as out:
        json.dump({"exit_code": int(code), "tests": outcomes.tests}, out, indent=1)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
