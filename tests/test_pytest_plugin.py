"""bitbridge's pytest plugin (bitbridge/pytest_plugin.py), run on small test suites of a
user's kind by pytest's own pytester, each in a pytest process of its own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from processes import process_gone

from bitbridge import paths

pytest_plugins = ["pytester"]

#: Where the provisioned interpreter is: pytester's runs get a HOME of their own.
HOME = paths.home()

# A user's test file: the bridge class is defined in the test file itself.
BRIDGE = """
import os

import pytest

from bitbridge import Bridge, remote32


class Device(Bridge):
    libtype = None

    def __init__(self, gain=1):
        self.gain = gain

    @remote32
    def pid(self):
        return os.getpid()

    @remote32
    def scaled(self, value):
        return value * self.gain
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    """A pytester whose runs find the provisioned interpreter (pytester moves HOME)."""
    monkeypatch.setenv("BITBRIDGE_HOME", str(HOME))
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", *args, timeout=120)


def test_bitbridge_session_starts_one_server_for_the_session(suite):
    suite.makepyfile(
        BRIDGE
        + """
PIDS = []


@pytest.fixture(scope="session")
def device(bitbridge_session):
    return bitbridge_session(Device, gain=2)


def test_one(device):
    PIDS.append(device.pid())
    assert device.scaled(3) == 6


def test_two(device, bitbridge_session):
    assert bitbridge_session(Device, gain=2) is device  # shared
    assert bitbridge_session(Device, gain=3).scaled(3) == 9  # other arguments: another
    PIDS.append(device.pid())


def test_three(device):
    device.close()  # a test that closes it (or crashes its server): the next one gets it back


def test_four(bitbridge_session):
    PIDS.append(bitbridge_session(Device, gain=2).pid())
    assert PIDS[0] == PIDS[1] != PIDS[2]
    assert PIDS[0] != os.getpid()
"""
    )
    result = run(suite)
    result.assert_outcomes(passed=4)


def test_a_test_that_leaves_a_server_running_fails_and_the_server_is_killed(suite, tmp_path):
    pid_file = tmp_path / "pid"
    suite.makepyfile(
        BRIDGE
        + f"""
KEPT = []


def test_leaves_one():
    KEPT.append(Device())
    open({str(pid_file)!r}, "w").write(str(KEPT[0].pid()))


def test_closes_its_own():
    with Device() as device:
        assert device.pid()
    forgotten = Device()  # unreachable at the end: its finalizer closes it
    assert forgotten.pid()


@pytest.fixture
def closed_in_teardown():
    with Device() as device:
        yield device


def test_with_a_function_fixture(closed_in_teardown):
    assert closed_in_teardown.pid()
"""
    )
    result = run(suite)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaves_one*",
            "*bitbridge: this test left 1 server process(es) running: pid * (Device); killed now."
            " Close each bridge a test starts (`with Device(...) as bridge:`*",
        ]
    )
    assert process_gone(int(pid_file.read_text()))


def test_bitbridge_session_skips_without_an_interpreter(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("BITBRIDGE_PYTHON32", str(tmp_path / "nowhere" / "python32"))
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path / "empty"))
    suite.makepyfile(
        BRIDGE
        + """
def test_needs_the_server(bitbridge_session):
    bitbridge_session(Device)
"""
    )
    result = run(suite)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*SKIPPED*bitbridge: Device needs a 32-bit server: the interpreter named by*"]
    )
    # A suite that must not skip (as this repository's own) says so:
    suite.makeini("[pytest]\nbitbridge_skip_without_interpreter = false\n")
    run(suite).assert_outcomes(errors=0, failed=1)


def test_the_plugin_imports_no_client_code_until_used():
    probe = (
        "import sys, bitbridge.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('bitbridge.client')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
