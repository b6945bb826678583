"""Servers start and stop with their bridge, and never outlive their client."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time

import pytest
from bridges import HERE, Recorder
from processes import process_gone
from wine_tools import windows_python

from bitbridge import server_info

CLIENT = os.path.join(HERE, "data", "client_then_sleep.py")

#: Where the server runs: a Linux interpreter, or the Windows Python under Wine over
#: each of its transports.
HOSTS = ["linux", "wine_fd", "wine_tcp"]


def wait_gone(pid: int, within: float) -> float:
    """Return how long ``pid`` took to disappear; fail after ``within`` seconds."""
    started = time.monotonic()
    while not process_gone(pid):
        assert time.monotonic() - started < within, f"process {pid} still there"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("host", HOSTS)
def test_with_block_starts_and_stops_the_server(host, monkeypatch):
    cls = Recorder
    if host != "linux":
        monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", host.removeprefix("wine_"))
        cls = Recorder.configure(python32=windows_python())
    with cls() as recorder:
        pid = server_info(recorder).pid
        assert not process_gone(pid)
    assert process_gone(pid)  # reaped already: no zombie
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # and nothing else of its session is left


def test_close_is_idempotent():
    recorder = Recorder()
    pid = server_info(recorder).pid
    recorder.close()
    recorder.close()
    assert process_gone(pid)


def test_finalizer_stops_a_forgotten_bridge():
    recorder = Recorder()
    pid = server_info(recorder).pid
    del recorder
    gc.collect()
    assert process_gone(pid)


def start_client(
    mode: str, host: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[subprocess.Popen[str], int]:
    extra = []
    if host != "linux":
        monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", host.removeprefix("wine_"))
        extra.append("wine")
    client = subprocess.Popen(
        [sys.executable, CLIENT, HERE, mode, *extra], stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None
    return client, int(client.stdout.readline())


def wait_group_gone(pid: int, within: float) -> None:
    """Wait for the server and every process of its session to be gone (a server under
    Wine leaves none behind; the wineserver and its helpers run in sessions of their own)."""
    wait_gone(pid, within)
    started = time.monotonic()
    while True:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() - started < within, f"processes of group {pid} still there"
        time.sleep(0.02)


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_server_exits_when_its_client_is_killed(mode, host, monkeypatch):
    client, server_pid = start_client(mode, host, monkeypatch)
    time.sleep(0.2)
    assert not process_gone(server_pid)
    client.send_signal(signal.SIGKILL)
    client.wait()
    wait_group_gone(server_pid, within=3.0)


@pytest.mark.parametrize("host", HOSTS)
def test_server_exits_when_its_client_exits_without_close(host, monkeypatch):
    client, server_pid = start_client("exit-without-close", host, monkeypatch)
    assert client.wait(30) == 0
    wait_group_gone(server_pid, within=3.0)


def test_many_calls_from_threads_get_their_own_answers(recorder):
    from concurrent.futures import ThreadPoolExecutor

    def work(n: int) -> bool:
        return all(recorder.call_back(int, str(n * 1000 + i)) == n * 1000 + i for i in range(100))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))
