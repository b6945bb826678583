"""A bridge class defined in a script's __main__ works, without re-running the script."""

from __future__ import annotations

import os
import subprocess
import sys

from bridges import HERE


def test_class_defined_in_main_runs_and_main_block_runs_once():
    script = os.path.join(HERE, "data", "script_bridge.py")
    result = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = result.stdout.splitlines()
    assert lines.count("main block ran, pointer size 8") == 1, result.stdout
    assert "swapped __main__ Pair 2 1" in lines
    assert "server pointer size 4" in lines


def test_a_bridge_started_on_import_says_to_guard_it():
    script = os.path.join(HERE, "data", "starts_on_import.py")
    result = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ServerImportError" in result.stderr
    assert "Unguarded() was called while the 32-bit server imported" in result.stderr
    assert 'if __name__ == "__main__":' in result.stderr
