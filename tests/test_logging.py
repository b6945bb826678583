"""What the bridge tells the logging module, and where the server's output goes."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from bridges import HERE, Recorder

from bitbridge import CallTimeout, ServerCrashed, StartError

SESSION = "bitbridge.session"


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.DEBUG, logger="bitbridge")
    return caplog


def _messages(caplog, name: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name and r.levelno == level]


def test_start_and_close_are_logged_at_debug(records):
    with Recorder() as recorder:
        pid = recorder.pid()
    started, closed = _messages(records, SESSION, logging.DEBUG)
    assert started.startswith(f"Recorder server started: pid {pid}, ")
    assert "provisioned by bitbridge" in started
    assert " ms" in started.split("ready in ")[1]
    assert closed == f"Recorder server closed: pid {pid}, exit code 0"


def test_a_crash_is_a_warning_and_a_restart_is_info(records):
    with Recorder() as recorder:
        old = recorder.pid()
        with pytest.raises(ServerCrashed):
            recorder.segfault()
        recorder.restart()
        assert recorder.pid() != old
    (crash,) = _messages(records, SESSION, logging.WARNING)
    assert crash.startswith(f"ServerCrashed: the Recorder server (pid {old}) died during ")
    assert _messages(records, SESSION, logging.INFO) == [
        f"restarting the Recorder server (pid {old})"
    ]


def test_a_timeout_is_a_warning(records):
    with Recorder() as recorder, pytest.raises(CallTimeout):
        recorder.sleep_at_most_half_a_second(5)
    (timeout,) = _messages(records, SESSION, logging.WARNING)
    assert "CallTimeout: Recorder.sleep_at_most_half_a_second() did not return" in timeout


def test_a_failed_start_is_a_warning(records):
    with pytest.raises(StartError):
        Recorder.configure(python32="/bin/false")()
    (failure,) = _messages(records, SESSION, logging.WARNING)
    assert failure.startswith("Recorder server did not start: the server exited before")


def test_nothing_is_printed_by_default():
    # A fresh process with no logging set up: the crash is told by the exception only.
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {HERE!r})
        from bridges import Recorder
        from bitbridge import ServerCrashed
        with Recorder() as recorder:
            try:
                recorder.segfault()
            except ServerCrashed:
                print("raised")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "raised\n"
    assert result.stderr == ""


def test_the_servers_output_is_echoed_by_default(capfd):
    with Recorder() as recorder:
        recorder.write("to stdout\n", "to stderr\n")
    out, err = capfd.readouterr()
    assert "to stdout\n" in out
    assert "to stderr\n" in err


def test_the_servers_output_can_become_log_records(records, capfd):
    with Recorder.configure(server_output="log")() as recorder:
        pid = recorder.pid()
        recorder.write("one\ntwo\n", "warn")
        recorder.write("", " me\n")
    lines = [r for r in records.records if r.name == "bitbridge.server"]
    # Two streams, read by two threads: in order within each stream.
    by_stream = {
        stream: [(r.getMessage(), r.levelno) for r in lines if r.stream == stream]
        for stream in ("stdout", "stderr")
    }
    assert by_stream == {
        "stdout": [("one", logging.INFO), ("two", logging.INFO)],
        "stderr": [("warn me", logging.WARNING)],
    }
    assert {r.server_pid for r in lines} == {pid}
    out, err = capfd.readouterr()
    assert "one" not in out
    assert "warn" not in err


def test_server_output_must_be_echo_or_log():
    with pytest.raises(ValueError, match="server_output must be one of 'echo', 'log'"):
        Recorder.configure(server_output="print")
