"""Crashes, hangs, interrupts and threads: the bridge reports clearly and leaves nothing
behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from bridges import HERE, Recorder
from processes import process_gone

from bitbridge import BridgeClosed, CallTimeout, ServerCrashed, server_info


def test_abort_names_the_signal_and_carries_stderr():
    with Recorder() as recorder:
        started = time.monotonic()
        with pytest.raises(ServerCrashed) as raised:
            recorder.abort_after_writing("last words of the library\n")
        assert time.monotonic() - started < 2
        message = str(raised.value)
        assert "signal SIGABRT" in message
        assert "last words of the library" in message
        assert "abort_after_writing" in message


def test_restart_after_a_crash_brings_the_bridge_back():
    with Recorder() as recorder:
        crashed_pid = server_info(recorder).pid
        with pytest.raises(ServerCrashed):
            recorder.segfault()
        assert process_gone(crashed_pid)
        recorder.restart()
        assert recorder.pid() == server_info(recorder).pid != crashed_pid
        assert recorder.pointer_size() == 4


def test_per_call_timeout_kills_the_stuck_server():
    with Recorder() as recorder:
        pid = server_info(recorder).pid
        assert recorder.sleep_at_most_half_a_second(0.01) == 0.01
        started = time.monotonic()
        with pytest.raises(CallTimeout, match=r"sleep_at_most_half_a_second\(\).*within 0.5 s"):
            recorder.sleep_at_most_half_a_second(30)
        assert time.monotonic() - started < 2
        assert process_gone(pid)
        with pytest.raises(CallTimeout):
            recorder.pid()  # later calls say the same, at once


def test_bridge_wide_timeout_and_no_stale_reply_after_restart():
    with Recorder.configure(timeout=0.3)() as recorder:
        with pytest.raises(CallTimeout, match=r"within 0\.3 s"):
            recorder.sleep(0.8)
        recorder.restart()
        time.sleep(0.8)  # when the old reply would have come
        assert recorder.pid() == server_info(recorder).pid  # an int: not the stale None
        assert recorder.received() == ((), {})


def test_timeout_does_not_hit_calls_that_return_in_time():
    with Recorder.configure(timeout=5)() as recorder:
        assert [recorder.pointer_size() for _ in range(100)] == [4] * 100


def test_ctrl_c_during_a_long_call_closes_the_bridge_cleanly():
    client = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "data", "interrupted_client.py"), HERE],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdout is not None
    server_pid = int(client.stdout.readline())
    time.sleep(0.5)
    client.send_signal(signal.SIGINT)
    out, _ = client.communicate(timeout=20)
    assert client.returncode == 0
    lines = out.splitlines()
    assert lines[0] == "KeyboardInterrupt"
    assert lines[1].startswith("BridgeClosed: the bridge was closed when Ctrl-C interrupted")
    assert lines[2] == "restarted True 4"
    assert process_gone(server_pid)


def test_eight_threads_times_a_thousand_calls_get_their_own_answers(cpp):
    def work(n: int) -> list[int]:
        return [cpp.add(n * 10_000, i) for i in range(1000)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [[n * 10_000 + i for i in range(1000)] for n in range(8)]


def test_calls_into_the_library_are_serialized_by_default(recorder):
    with ThreadPoolExecutor(4) as pool:
        most_active = max(pool.map(recorder.busy, [0.1] * 8))
    assert most_active == 1


def test_concurrent_opt_in_lets_calls_overlap():
    with Recorder.configure(concurrent=True)() as recorder:
        with ThreadPoolExecutor(4) as pool:
            most_active = max(pool.map(recorder.busy, [0.2] * 8))
        assert most_active > 1
        seen = []
        assert recorder.call_back(seen.append, 1) is None  # callbacks still work
        assert seen == [1]


def test_sixteen_bridges_started_and_closed_concurrently_leave_nothing():
    from processes import fd_count

    fds_before = fd_count()
    pids = []
    lock = threading.Lock()

    def one_bridge(_: int) -> int:
        with Recorder() as recorder:
            pid = recorder.pid()
            with lock:
                pids.append(pid)
            return recorder.pointer_size()

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(one_bridge, range(16))) == [4] * 16
    assert len(set(pids)) == 16
    assert all(process_gone(pid) for pid in pids)
    assert fd_count() == fds_before


def test_bridge_closed_names_the_cause():
    recorder = Recorder()
    recorder.close()
    with pytest.raises(BridgeClosed, match="restart"):
        recorder.pid()
    recorder.restart()
    assert recorder.pointer_size() == 4
    recorder.close()


def test_closing_a_concurrent_bridge_after_threads_used_it_prints_nothing(capsys):
    # Its server's serving threads used to print "file descriptor cannot be a negative
    # integer" when the connection closed under them (3 closes in 20).
    for _ in range(20):
        with Recorder.configure(concurrent=True)() as recorder:
            threads = [
                threading.Thread(target=lambda: [recorder.pid() for _ in range(50)])
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")
