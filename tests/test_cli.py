"""The command line: `bitbridge` and `python -m bitbridge`, run for real where it matters."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bitbridge import __version__
from bitbridge.cli import build_parser, keyword_argument, literal, main
from bitbridge.client.interpreter import find_interpreter

ROOT = Path(__file__).resolve().parent.parent


def bitbridge(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bitbridge ARGS`` with ``env`` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "bitbridge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def assert_one_error(result: subprocess.CompletedProcess[str], start: str) -> list[str]:
    """The command failed with ``bitbridge: START...`` on stderr and no Python traceback;
    return its detail lines (indented under the first)."""
    assert result.returncode == 1, result.stderr
    first, *details = result.stderr.rstrip("\n").split("\n")
    assert first.startswith(f"bitbridge: {start}"), result.stderr
    assert "Traceback (most recent call last)" not in first
    assert all(line.startswith("  ") or not line for line in details), result.stderr
    return details


def test_python_m_bitbridge_is_the_command():
    assert bitbridge("--version").stdout.strip() == f"bitbridge {__version__}"
    result = bitbridge("--help")
    for command in ("doctor", "python32", "mono32", "serve"):
        assert command in result.stdout


def subcommands(parser=None, path=()):
    parser = parser or build_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for name, sub in action.choices.items():
            yield (*path, name), sub
            yield from subcommands(sub, (*path, name))


@pytest.mark.parametrize("path", [path for path, _ in subcommands()], ids=" ".join)
def test_every_subcommand_has_a_description(path, capsys):
    with pytest.raises(SystemExit) as raised:
        main([*path, "--help"])
    assert raised.value.code == 0
    paragraphs = capsys.readouterr().out.split("\n\n")
    assert paragraphs[0].startswith(f"usage: bitbridge {' '.join(path)}")
    description = paragraphs[1]
    assert not description.startswith(("positional arguments:", "options:"))
    assert len(description.split()) >= 5


def test_command_needs_a_subcommand():
    with pytest.raises(SystemExit):
        main([])


def test_doctor_reports_the_interpreter_once_and_mono(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    command = " ".join(find_interpreter().command)
    assert out.count(command) == 1
    assert re.search(r"^server interpreter: .*provisioned by bitbridge.*, 32-bit$", out, re.M)
    assert re.search(r"^Mono, for libtype 'net' only: Mono \S+ \(i386\) in ", out, re.M)


def test_doctor_fails_without_an_interpreter_and_says_how_to_get_one(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("BITBRIDGE_PYTHON32", raising=False)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "server interpreter: MISSING" in out
    assert "bitbridge python32 install" in out
    assert f"MISSING: none in {tmp_path / 'mono32'}" in out


def test_doctor_reports_a_missing_mono_without_failing(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_MONO_ROOT", str(tmp_path / "nowhere"))
    assert main(["doctor"]) == 0  # Mono matters for libtype "net" only
    assert "`bitbridge mono32 install` provisions it" in capsys.readouterr().out


def test_python32_list(capsys):
    assert main(["python32", "list"]) == 0
    assert "(i386)" in capsys.readouterr().out


def test_python32_list_when_none(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["python32", "list"]) == 1


def test_mono32_list(capsys, monkeypatch, tmp_path):
    assert main(["mono32", "list"]) == 0
    assert re.fullmatch(r"Mono \S+ \(i386\) in \S+\n", capsys.readouterr().out)
    monkeypatch.setenv("BITBRIDGE_MONO_ROOT", str(tmp_path / "nowhere"))
    assert main(["mono32", "list"]) == 1
    assert "MISSING" in capsys.readouterr().out
    monkeypatch.setenv("BITBRIDGE_MONO_ROOT", str(tmp_path))  # exists, but empty
    assert main(["mono32", "list"]) == 1
    out = capsys.readouterr().out
    assert "INCOMPLETE" in out
    assert "usr/lib/libmonosgen-2.0.so.1" in out
    assert "mono32 install --force" in out


def test_a_missing_module_file_is_one_line_on_stderr():
    result = bitbridge("serve", "nowhere.py", "Device")
    assert_one_error(result, f"no such file: {ROOT / 'nowhere.py'}")
    assert result.stderr.count("\n") == 1


def test_no_interpreter_is_an_error_not_a_traceback(tmp_path):
    result = bitbridge(
        "serve", "tests/bridges.py", "Recorder", BITBRIDGE_HOME=str(tmp_path), BITBRIDGE_PYTHON32=""
    )
    details = assert_one_error(result, "no 32-bit Python interpreter was found")
    assert any("bitbridge python32 install" in line for line in details)


def test_a_library_load_error_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "garbage32.so").write_text("not a shared library")
    (tmp_path / "garbage.py").write_text(
        "from bitbridge import Bridge\n\nclass Garbage(Bridge):\n    library = 'garbage32'\n"
    )
    result = bitbridge("serve", str(tmp_path / "garbage.py"), "Garbage")
    details = assert_one_error(
        result, f"{tmp_path / 'garbage32.so'} exists but could not be loaded"
    )
    assert any(line.startswith("  Interpreter: ") for line in details)


def test_an_exception_of_init_names_the_call_and_keeps_the_remote_traceback():
    result = bitbridge("serve", "tests/bridges.py", "FailsToStart", "--arg", "value")
    details = assert_one_error(
        result, "FailsToStart('value') raised ValueError: no device on port 'COM9'"
    )
    assert "  ========= Remote Traceback (1) =========" in details


def test_a_module_that_fails_to_import_shows_where(tmp_path):
    (tmp_path / "broken.py").write_text("import os\nimport no_such_module_here\n")
    result = bitbridge("serve", str(tmp_path / "broken.py"), "Device")
    details = assert_one_error(result, f"importing {tmp_path / 'broken.py'} failed:")
    assert f'    File "{tmp_path / "broken.py"}", line 2, in <module>' in details
    assert "  ModuleNotFoundError: No module named 'no_such_module_here'" in details
    assert not any("importlib" in line or "modules.py" in line for line in details)


def test_ctrl_c_during_python32_install_exits_130_with_one_line(tmp_path):
    env = {**os.environ, "BITBRIDGE_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bitbridge", "python32", "install"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        # Python turns SIGINT into KeyboardInterrupt only if it was not ignored at its
        # start, as it is under a background job of a shell without job control.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 30
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.01)  # until it runs apt or dpkg: the command has started
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "bitbridge: interrupted\n"
    assert not (tmp_path / "python32").exists()
    assert not list(tmp_path.iterdir())  # its temporary folder was removed too


def test_serve_starts_the_bridge_in_a_console():
    result = bitbridge(
        "serve", "examples/cpp/cpp.py", "Cpp", stdin="print('sum', bridge.add(2, 3))\n"
    )
    assert result.returncode == 0, result.stderr
    assert "sum 5" in result.stdout
    assert "pointer size 4 bytes" in result.stderr
    assert "bitbridge serve: closed" in result.stderr


def test_serve_passes_constructor_arguments_with_their_types():
    result = bitbridge(
        "serve",
        "tests/bridges.py",
        "Recorder",
        *("--arg", "3", "--arg", "-1", "--arg", "COM3", "--arg", "'7'"),
        *("--kwarg", "gain=1.5", "--kwarg", "names=['a', 'b']", "--kwarg", "flag=None"),
        stdin="print(bridge.received())\n",
    )
    assert result.returncode == 0, result.stderr
    assert "((3, -1, 'COM3', '7'), {'gain': 1.5, 'names': ['a', 'b'], 'flag': None})" in (
        result.stdout
    )
    assert "Recorder(3, -1, 'COM3', '7', gain=1.5, names=['a', 'b'], flag=None)" in result.stderr


def test_values_are_literals_or_else_strings():
    assert literal("3") == 3
    assert literal("1e3") == 1000.0
    assert literal("'3'") == "3"
    assert literal("COM3") == "COM3"
    assert literal("/dev/ttyUSB0") == "/dev/ttyUSB0"
    assert literal("{'a': (1, 2)}") == {"a": (1, 2)}
    assert literal("__import__('os')") == "__import__('os')"  # never evaluated
    assert keyword_argument("port=a=b") == ("port", "a=b")


def test_a_malformed_kwarg_is_a_usage_error():
    result = bitbridge("serve", "tests/bridges.py", "Recorder", "--kwarg", "1x=2")
    assert result.returncode == 2
    assert "argument --kwarg: expected NAME=VALUE with NAME a Python name: '1x=2'" in result.stderr


def test_serve_names_the_classes_when_the_class_is_wrong():
    result = bitbridge("serve", "examples/cpp/cpp.py", "Nope")
    assert_one_error(result, "cpp.py defines no bridge class 'Nope'; its bridge classes: Cpp")


def test_tab_completes_in_the_serve_console():
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bitbridge", "serve", "examples/cpp/cpp.py", "Cpp"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while marker not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                seen += os.read(leader, 4096)
        assert marker in seen, seen

    try:
        read_until(b">>> ")
        os.write(leader, b"bridge.subtr\t")  # Tab completes it to "bridge.subtract("
        read_until(b"bridge.subtract(")
        os.write(leader, b"5.0, 3.0)\n")
        read_until(b"\n2.0\r\n>>> ")
        os.write(leader, b"\x04")  # Ctrl-D
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
