"""``Bridge.map``: many calls of one remote method, pipelined on the bridge's connection,
with the ordering, exceptions and timeouts of ``concurrent.futures.Executor.map``."""

from __future__ import annotations

import itertools
import threading

import pytest
from bridges import Recorder
from cpp import Cpp

from bitbridge import CallTimeout, server_info
from bitbridge.client.pipeline import MAX_BATCH, WINDOW


def test_results_come_back_in_order(cpp):
    xs = list(range(5000))
    assert list(cpp.map(cpp.add, xs, reversed(xs))) == [4999] * 5000
    assert list(cpp.map(cpp.add, xs, xs)) == [2 * x for x in xs]


def test_the_method_may_be_bound_or_taken_from_the_class(cpp):
    assert list(cpp.map(Cpp.add, [1, 2], [3, 4])) == list(cpp.map(cpp.add, [1, 2], [3, 4]))


def test_it_stops_at_the_shortest_iterable_as_executor_map_does(cpp):
    assert list(cpp.map(cpp.add, [1, 2, 3], [10, 20])) == [11, 22]
    assert list(cpp.map(cpp.add, [], [])) == []


def test_only_the_bridges_own_remote_methods_are_accepted(cpp, recorder):
    with pytest.raises(TypeError, match="not a @remote32 method of Cpp"):
        cpp.map(recorder.pid, [1])
    with pytest.raises(TypeError, match="not a @remote32 method of Recorder"):
        recorder.map(recorder.local_pid, [])  # runs in the client: nothing to pipeline
    with pytest.raises(TypeError, match="not a @remote32 method"):
        cpp.map(len, [[1, 2]])


def test_copied_results_are_local_copies(cpp):
    results = list(cpp.map(cpp.scalar_multiply, [2.0, 3.0], [[1.0, 2.0], [1.0]]))
    assert results == [[2.0, 4.0], [3.0]]
    assert all(type(result) is list for result in results)


def test_the_first_exception_is_raised_when_its_result_is_reached(recorder):
    values = [4.0, 9.0, -1.0, 16.0]
    results = recorder.map(recorder.square_root, values)
    assert next(results) == 2.0
    assert next(results) == 3.0
    with pytest.raises(ValueError, match=r"no real square root of -1\.0") as raised:
        next(results)
    assert "square_root" in str(raised.value)  # the remote traceback
    with pytest.raises(StopIteration):
        next(results)
    assert recorder.square_root(25.0) == 5.0  # the bridge goes on


def test_an_endless_iterable_is_drawn_only_as_far_as_the_window(recorder):
    drawn = itertools.count()
    values = (float(next(drawn)) for _ in itertools.count())
    results = recorder.map(recorder.square_root, values)
    first = list(itertools.islice(results, 3000))
    assert first == pytest.approx([float(x) ** 0.5 for x in range(3000)], rel=1e-15)
    # in flight: WINDOW batches; being read: one more; each of at most MAX_BATCH calls
    assert next(drawn) <= 3000 + (WINDOW + 1) * MAX_BATCH
    results.close()
    assert recorder.square_root(4.0) == 2.0


def test_leaving_the_results_early_leaves_the_bridge_working(cpp):
    for total in cpp.map(cpp.add, range(100000), range(100000)):
        if total > 10:
            break
    assert cpp.add(1, 2) == 3
    assert list(cpp.map(cpp.add, [1], [1])) == [2]


def test_calls_in_between_and_callbacks_keep_their_order(cpp):
    seen = []
    results = cpp.map(cpp.add, range(2000), range(2000))
    assert next(results) == 0
    assert cpp.add(5, 5) == 10  # a plain call while batches are in flight
    progress = cpp.map(cpp.run_with_progress, [2, 3], [lambda done, total: seen.append(done)] * 2)
    assert list(progress) == [2, 3]
    assert seen == [1, 2, 1, 2, 3]
    assert list(results) == [2 * x for x in range(1, 2000)]


def test_another_thread_can_call_while_a_map_is_read(cpp):
    got = []
    results = cpp.map(cpp.add, range(3000), range(3000))
    thread = threading.Thread(target=lambda: got.extend(cpp.add(i, 1) for i in range(200)))
    thread.start()
    assert list(results) == [2 * x for x in range(3000)]
    thread.join()
    assert got == [i + 1 for i in range(200)]


def test_a_map_timeout_raises_call_timeout_and_kills_the_server():
    with Recorder() as recorder:
        pid = server_info(recorder).pid
        results = recorder.map(recorder.sleep, [0.2] * 20, timeout=0.5)
        with pytest.raises(CallTimeout, match="did not return within") as raised:
            list(results)
        assert isinstance(raised.value, TimeoutError)
        with pytest.raises(CallTimeout):
            recorder.pid()
        recorder.restart()
        assert recorder.pid() != pid


def test_each_call_keeps_its_own_limit_without_a_map_timeout():
    with Recorder() as recorder:
        results = recorder.map(recorder.sleep_at_most_half_a_second, [0.01, 2.0])
        assert next(results) == 0.01
        with pytest.raises(CallTimeout):
            next(results)


def test_a_callback_may_call_the_bridge_while_later_batches_wait(cpp):
    # The server runs one call at a time: the queued batches wait, the callback's own
    # call to the bridge runs at once (else this would deadlock).
    totals = []
    progress = cpp.map(
        cpp.run_with_progress, [2, 2, 2], [lambda done, total: totals.append(cpp.add(done, 10))] * 3
    )
    assert list(progress) == [2, 2, 2]
    assert totals == [11, 12] * 3


def test_an_in_process_bridge_maps_too():
    with Cpp.configure(in_process=True, library="cpp_lib64")() as cpp:
        assert list(cpp.map(cpp.add, range(100), range(100))) == [2 * x for x in range(100)]
