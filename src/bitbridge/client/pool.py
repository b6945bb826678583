"""``BridgePool``: several servers of one bridge class, as a ``concurrent.futures.Executor``.

Each worker is a thread of the client that owns one bridge (one server process) and
takes calls from a shared queue, so a library that is not thread-safe still runs one
call at a time per process while N processes use N processors. A worker whose server
crashed or timed out fails that call and starts a new server for the next one.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, TypeVar

from typing_extensions import ParamSpec

from bitbridge.bridge import Bridge, remote_method
from bitbridge.errors import CallTimeout, ServerCrashed

B = TypeVar("B", bound=Bridge)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Task:
    future: concurrent.futures.Future[Any]
    method: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


_STOP = None  # a worker's signal to close its bridge and end


class BridgePool(concurrent.futures.Executor, Generic[B]):
    """N servers of the bridge class ``cls``, each started with the same constructor
    arguments, behind the interface of ``concurrent.futures.Executor``.

    ``submit(Cls.method, *args)`` returns a ``concurrent.futures.Future`` of the call,
    run by the first free server; ``map`` and ``shutdown`` work as in
    ``ThreadPoolExecutor``. A call whose server crashed fails with
    [`ServerCrashed`][bitbridge.ServerCrashed] (or times out with
    [`CallTimeout`][bitbridge.CallTimeout]) and that worker starts a new server. Leaving
    the ``with`` block, or ``shutdown()``, stops every server.
    """

    def __init__(self, cls: type[B], workers: int = 2, *args: Any, **kwargs: Any) -> None:
        if workers < 1:
            raise ValueError(f"a BridgePool needs at least one worker, not {workers}")
        self._cls = cls
        self._queue: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._shut = False
        self.bridges = _start_all(cls, workers, args, kwargs)
        self._threads = [
            threading.Thread(
                target=_work,
                args=(bridge, self._queue),
                name=f"bitbridge-pool-{cls.__qualname__}-{number}",
                daemon=True,
            )
            for number, bridge in enumerate(self.bridges, 1)
        ]
        for thread in self._threads:
            thread.start()
        # A pool that is dropped without shutdown() still stops its workers and servers.
        weakref.finalize(self, _stop_workers, self._queue, len(self._threads))

    @property
    def workers(self) -> int:
        """How many servers the pool runs."""
        return len(self.bridges)

    def submit(  # type: ignore[override]
        self, fn: Callable[Concatenate[B, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[R]:
        """Run the remote method ``fn`` (given as ``Cls.method``) with these arguments on
        a free server; return its future."""
        remote_method(self._cls, fn)  # a TypeError here, not in a worker
        return self._submit(fn, args, kwargs)

    def map(
        self,
        fn: Callable[..., R],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[R]:
        """As ``Executor.map``: the results of the remote method ``fn`` over
        ``iterables``, in order, every call submitted at once. With ``chunksize`` above 1
        each server gets the calls in chunks that it runs with ``Bridge.map``
        (pipelined), which pays off for many short calls."""
        name, _ = remote_method(self._cls, fn)
        deadline = None if timeout is None else time.monotonic() + timeout
        calls = zip(*iterables, strict=False)  # stops at the shortest, as Executor.map
        if chunksize <= 1:
            return _in_order([self._submit(fn, args, {}) for args in calls], deadline)
        runner = _ChunkRunner(name)
        chunks: list[concurrent.futures.Future[list[R]]] = [
            self._submit(runner, (chunk,), {}) for chunk in _chunks(calls, chunksize)
        ]
        results: Iterator[list[R]] = _in_order(chunks, deadline)
        return itertools.chain.from_iterable(results)

    def _submit(
        self, run: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> concurrent.futures.Future[R]:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot submit calls to a BridgePool after shutdown()")
            self._queue.put(_Task(future, run, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking calls; with ``cancel_futures`` cancel those not started; stop every
        server once its worker is done (with ``wait``, before returning)."""
        with self._lock:
            if not self._shut:
                self._shut = True
                if cancel_futures:
                    _cancel_queued(self._queue)
                _stop_workers(self._queue, len(self._threads))
        if wait:
            for thread in self._threads:
                thread.join()


def _start_all(
    cls: type[B], workers: int, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[B]:
    """Start the servers at once (each start is mostly waiting); if one fails, stop the
    others and raise its error."""
    with concurrent.futures.ThreadPoolExecutor(workers) as starter:
        starting = [starter.submit(cls, *args, **kwargs) for _ in range(workers)]
    failures = [future.exception() for future in starting if future.exception() is not None]
    started = [future.result() for future in starting if future.exception() is None]
    if failures:
        for bridge in started:
            bridge.close()
        raise failures[0]  # type: ignore[misc]
    return started


def _work(bridge: Bridge, tasks: queue.SimpleQueue[_Task | None]) -> None:
    """A worker: run tasks on its own bridge until told to stop, then close it. After a
    crash or a timeout it starts a new server, before the next task if not at once."""
    fresh_server_needed = False
    try:
        while (task := tasks.get()) is not _STOP:
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                if fresh_server_needed:
                    bridge.restart()
                    fresh_server_needed = False
                task.future.set_result(task.method(bridge, *task.args, **task.kwargs))
            except (ServerCrashed, CallTimeout) as exc:
                task.future.set_exception(exc)
                fresh_server_needed = True
                with contextlib.suppress(Exception):  # else before the next task
                    bridge.restart()
                    fresh_server_needed = False
            except BaseException as exc:  # a start error of restart() too
                task.future.set_exception(exc)
    finally:
        bridge.close()


def _stop_workers(tasks: queue.SimpleQueue[_Task | None], workers: int) -> None:
    for _ in range(workers):
        tasks.put(_STOP)


def _cancel_queued(tasks: queue.SimpleQueue[_Task | None]) -> None:
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        if task is not None:
            task.future.cancel()


def _chunks(items: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


class _ChunkRunner:
    """Runs one chunk of calls with ``Bridge.map`` on a worker's bridge."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, bridge: Bridge, chunk: list[tuple[Any, ...]]) -> list[Any]:
        return list(bridge.map(getattr(bridge, self.name), *zip(*chunk, strict=True)))


def _in_order(futures: list[concurrent.futures.Future[R]], deadline: float | None) -> Iterator[R]:
    """The futures' results in order, as ``Executor.map`` yields them: each waited for
    until ``deadline``; those not reached are cancelled when the iterator is closed."""
    try:
        futures.reverse()
        while futures:
            future = futures.pop()
            remaining = None if deadline is None else deadline - time.monotonic()
            try:
                yield future.result(remaining)
            finally:
                future.cancel()
    finally:
        for future in futures:
            future.cancel()
