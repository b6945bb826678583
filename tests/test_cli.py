"""The command line: doctor and the provisioned interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bitbridge import __version__
from bitbridge.cli import main


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "bitbridge.cli", "--version"], capture_output=True, text=True
    )
    assert result.stdout.strip() == f"bitbridge {__version__}"


def test_doctor_reports_the_32_bit_interpreter(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "provisioned by bitbridge" in out
    assert "32-bit" in out


def test_doctor_reports_what_is_missing(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("BITBRIDGE_PYTHON32", raising=False)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "MISSING" in out
    assert "bitbridge python32 install" in out


def test_python32_list(capsys):
    assert main(["python32", "list"]) == 0
    assert "(i386)" in capsys.readouterr().out


def test_python32_list_when_none(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["python32", "list"]) == 1


def test_command_needs_a_subcommand():
    with pytest.raises(SystemExit):
        main([])


def test_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "bitbridge.cli", "--help"], capture_output=True, text=True
    )
    for command in ("doctor", "python32", "mono32", "serve"):
        assert command in result.stdout


def run_serve(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bitbridge.cli", "serve", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_starts_the_bridge_in_a_console(tmp_path):
    result = run_serve("examples/cpp/cpp.py", "Cpp", stdin="print('sum', bridge.add(2, 3))\n")
    assert result.returncode == 0, result.stderr
    assert "sum 5" in result.stdout
    assert "pointer size 4 bytes" in result.stderr
    assert "bitbridge serve: closed" in result.stderr


def test_serve_names_the_classes_when_the_class_is_wrong():
    result = run_serve("examples/cpp/cpp.py", "Nope")
    assert result.returncode == 1
    assert "defines no bridge class 'Nope'; its bridge classes: Cpp" in result.stderr
