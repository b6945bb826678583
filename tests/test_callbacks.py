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


# --- arguments of callbacks travel by value ----------------------------------------------


def test_a_callbacks_arguments_arrive_by_value_with_their_types(recorder):
    import datetime

    values = ([1, 2.5, "three"], {"four": (5, b"six")}, {7, 8}, datetime.date(2024, 1, 9))
    seen = []
    recorder.call_back(lambda *args, **kwargs: seen.append((args, kwargs)), *values, nine=[9])
    ((args, kwargs),) = seen
    assert args == values
    assert [type(v) for v in args] == [list, dict, set, datetime.date]  # not netrefs
    assert kwargs == {"nine": [9]}
    assert type(kwargs["nine"]) is list


def test_objects_of_the_server_reach_a_callback_as_copies(recorder):
    kept = recorder.make_list()  # a netref: the list stays in the server
    seen = []
    recorder.call_back_with_kept(lambda values, kept: seen.append((values, kept)))
    ((values, keyword),) = seen
    assert type(values) is list  # a copy, in one message
    assert values == [1, 2, 3]
    values.append(4)
    assert recorder.kept_length() == 3
    assert type(keyword) is list
    assert len(kept) == 3


def test_callables_and_netrefs_in_a_callbacks_arguments_stay_references(recorder):
    def function() -> int:
        return 42

    kept = recorder.make_list()
    assert recorder.call_back(lambda f, k: (f is function, k.__class__.__name__), function, kept)
    assert recorder.call_back(lambda f: f(), function) == 42


def test_structures_reach_a_callback_in_the_clients_layout(recorder):
    from layouts import IntDouble, Nested, report

    seen = []
    nested = Nested(IntDouble(1, 0.5), 4, (1, 2, 3))
    recorder.call_back(lambda *values: seen.extend(values), IntDouble(3, 0.5), nested)
    assert [type(v) for v in seen] == [IntDouble, Nested]
    assert report(seen) == report([IntDouble(3, 0.5), nested])


def test_large_bytes_reach_a_callback_through_shared_memory(recorder):
    data = bytes(range(256)) * (3 << 12)  # 3 MiB
    seen = []
    recorder.call_back(seen.append, data)
    assert type(seen[0]) is bytes
    assert seen[0] == data


def test_blocks_of_a_library_reach_the_callback_and_outlive_the_bridge():
    import array

    from cpp import Cpp

    blocks = []
    with Cpp() as cpp:
        done = cpp.acquire(5, 1000, lambda index, samples: blocks.append((index, samples)))
        assert done == 5
        assert cpp.acquire(10, 3, lambda index, samples: index == 2) == 3  # True stops
    # the bridge is closed: the blocks are the client's own
    assert [index for index, _ in blocks] == list(range(5))
    for index, samples in blocks:
        assert type(samples) is array.array
        assert samples.typecode == "d"
        # (i386 computes on the x87 unit: the last bit may differ from this process's)
        assert list(samples) == pytest.approx([index + i / 1000 for i in range(1000)], rel=1e-15)
