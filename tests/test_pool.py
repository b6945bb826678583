"""``BridgePool``: several servers of one bridge class behind the interface of
``concurrent.futures.Executor``; crashed workers are replaced, shutdown stops them all."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest
from bridges import Recorder
from cpp import Cpp
from processes import process_gone

from bitbridge import BridgePool, ServerCrashed, server_info


def pids(pool: BridgePool[Recorder]) -> list[int]:
    return [server_info(bridge).pid for bridge in pool.bridges]


def test_submit_returns_a_real_future_of_the_call():
    with BridgePool(Cpp, workers=2) as pool:
        future = pool.submit(Cpp.add, 1, 2)
        assert isinstance(future, concurrent.futures.Future)
        assert future.result(timeout=30) == 3
        assert isinstance(pool, concurrent.futures.Executor)


def test_every_worker_is_its_own_server_started_with_the_same_arguments():
    with BridgePool(Recorder, 3, "one", two=2) as pool:
        assert pool.workers == 3
        assert len(set(pids(pool))) == 3
        for bridge in pool.bridges:
            assert bridge.received() == (("one",), {"two": 2})


def test_calls_run_on_several_servers_at_once():
    with BridgePool(Recorder, workers=2) as pool:
        futures = [pool.submit(Recorder.pid_after, 0.3) for _ in range(2)]
        assert {f.result(timeout=30) for f in futures} == set(pids(pool))


def test_map_gives_the_results_in_order_with_and_without_chunks():
    with BridgePool(Cpp, workers=2) as pool:
        xs = list(range(500))
        assert list(pool.map(Cpp.add, xs, xs)) == [2 * x for x in xs]
        assert list(pool.map(Cpp.add, xs, xs, chunksize=64)) == [2 * x for x in xs]


def test_an_exception_keeps_its_type_and_the_worker_goes_on():
    with BridgePool(Recorder, workers=1) as pool:
        failing = pool.submit(Recorder.square_root, -4.0)
        with pytest.raises(ValueError, match="no real square root") as raised:
            failing.result(timeout=30)
        assert "square_root" in str(raised.value)
        assert pool.submit(Recorder.square_root, 9.0).result(timeout=30) == 3.0
        with pytest.raises(ValueError, match=r"of -1\.0"):
            list(pool.map(Recorder.square_root, [1.0, -1.0]))


def test_only_remote_methods_of_the_pools_class_are_accepted():
    with BridgePool(Recorder, workers=1) as pool:
        with pytest.raises(TypeError, match="not a @remote32 method of Recorder"):
            pool.submit(Cpp.add, 1, 2)
        with pytest.raises(TypeError, match="not a @remote32 method of Recorder"):
            pool.submit(Recorder.local_pid)


def test_a_crashed_worker_fails_its_call_and_is_replaced():
    with BridgePool(Recorder, workers=2) as pool:
        before = set(pids(pool))
        crash = pool.submit(Recorder.segfault)
        with pytest.raises(ServerCrashed, match="SIGSEGV"):
            crash.result(timeout=30)
        # every later call works, on two live servers, one of them new
        results = [pool.submit(Recorder.pid_after, 0.2) for _ in range(4)]
        seen = {future.result(timeout=30) for future in results}
        after = set(pids(pool))
        assert seen <= after
        assert len(after) == 2
        assert len(before & after) == 1
    assert all(process_gone(pid) for pid in before | after)


def test_leaving_the_with_block_stops_every_server_and_thread():
    with BridgePool(Recorder, workers=2) as pool:
        running = pids(pool)
        pool.submit(Recorder.pid).result(timeout=30)
    assert all(process_gone(pid) for pid in running)
    assert not [t for t in threading.enumerate() if t.name.startswith("bitbridge-pool")]
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(Recorder.pid)


def test_shutdown_can_cancel_the_calls_not_started():
    pool = BridgePool(Recorder, workers=1)
    running = pids(pool)
    first = pool.submit(Recorder.sleep, 0.5)
    for _ in range(500):  # until the worker has taken it
        if first.running():
            break
        time.sleep(0.01)
    queued = [pool.submit(Recorder.sleep, 0.5) for _ in range(5)]
    pool.shutdown(wait=True, cancel_futures=True)
    assert first.result(timeout=30) is None
    assert all(future.cancelled() for future in queued)
    assert all(process_gone(pid) for pid in running)


def test_a_pool_whose_server_cannot_start_stops_the_others(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_PYTHON32", "/nowhere/python32")
    with pytest.raises(Exception, match="/nowhere/python32"):
        BridgePool(Recorder, workers=2)
    assert not [t for t in threading.enumerate() if t.name.startswith("bitbridge-pool")]
