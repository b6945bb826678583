"""Callbacks: a plain 64-bit Python callable passed to 32-bit C code as a function pointer."""

from __future__ import annotations

import os
import threading

import pytest

#: Natively, and from Linux also against the Windows DLL under Wine (conftest.CPP_HOSTS).
CPP_EVERYWHERE = True


def test_callback_runs_in_the_client_for_every_step(cpp):
    seen = []
    done = cpp.run_with_progress(5, lambda done, total: seen.append((done, total, os.getpid())))
    assert done == 5
    assert seen == [(i, 5, os.getpid()) for i in range(1, 6)]


def test_callback_can_stop_the_job_early(cpp):
    assert cpp.run_with_progress(10, lambda done, total: done == 4) == 4


def test_callback_may_call_the_bridge_again(cpp):
    sums = []
    done = cpp.run_with_progress(3, lambda done, total: sums.append(cpp.add(done, 100)))
    assert done == 3
    assert sums == [101, 102, 103]


def test_nested_callbacks_do_not_deadlock(cpp):
    inner = []

    def outer(done, total):
        inner.append(cpp.run_with_progress(2, lambda d, t: None))

    assert cpp.run_with_progress(3, outer) == 3
    assert inner == [2, 2, 2]


def test_exception_in_callback_reaches_the_caller_with_both_tracebacks(cpp):
    def failing(done, total):
        if done == 2:
            raise KeyError(f"step {done} failed")

    with pytest.raises(KeyError, match="step 2 failed") as raised:
        cpp.run_with_progress(5, failing)
    message = str(raised.value)
    assert "in failing" in message  # the client's frame
    assert "in run_with_progress" in message  # the server's frame
    assert "cpp.py" in message
    assert cpp.add(1, 1) == 2  # and the bridge carries on


def test_callbacks_from_several_threads(cpp):
    results = {}

    def work(n):
        seen = []
        results[n] = (cpp.run_with_progress(20, lambda d, t: seen.append(d)), seen)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: (20, list(range(1, 21))) for n in range(4)}
