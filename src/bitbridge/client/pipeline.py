"""``Bridge.map``: many calls of one remote method, pipelined on the bridge's connection.

Calls travel in batches (one request, one reply each), several batches in flight at once,
so that the server runs call after call while the client packs the next batch and reads
the last one's results. The server still runs one call at a time, in order. Batches
start at one call and double up to :data:`MAX_BATCH`, so the first results come back at
once; at most :data:`WINDOW` batches are in flight, which bounds the memory a map holds
however long its input.
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bitbridge.remote import RemoteSpec

if TYPE_CHECKING:
    from bitbridge.client.session import Batch, Call, Session

#: The most calls in one batch, and the most batches in flight.
MAX_BATCH = 256
WINDOW = 4


class Pipeline(Iterator[Any]):
    """The results of ``Bridge.map``, in order; the calls are sent as they are needed."""

    def __init__(
        self,
        session: Session,
        name: str,
        spec: RemoteSpec,
        calls: Iterable[Call],
        timeout: float | None,
    ) -> None:
        self._session, self._name, self._spec = session, name, spec
        self._calls = iter(calls)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._timeout = timeout
        self._in_flight: collections.deque[Batch] = collections.deque()
        self._ready: collections.deque[tuple[bool, Any]] = collections.deque()
        self._size = 1
        self._exhausted = False
        self._fill()  # as Executor.map, the calls start before the first result is asked for

    def __next__(self) -> Any:
        while not self._ready:
            if not self._in_flight:
                raise StopIteration
            batch = self._in_flight.popleft()
            self._fill()  # keep the server busy while this batch's results are read
            try:
                outcomes = self._session.receive_batch(
                    batch, self._name, self._spec, self._limit(batch.size)
                )
            except BaseException:
                self.close()
                raise
            self._ready.extend(outcomes)
        failed, value = self._ready.popleft()
        if failed:
            self.close()
            raise value
        return value

    def close(self) -> None:
        """Send no more calls; the batches still in flight free their shared memory when
        their replies arrive."""
        self._exhausted = True
        self._ready.clear()
        while self._in_flight:
            batch = self._in_flight.popleft()
            batch.pending.add_callback(lambda _, transfer=batch.transfer: transfer.finish())

    def __del__(self) -> None:
        self.close()

    def _fill(self) -> None:
        while not self._exhausted and len(self._in_flight) < WINDOW:
            chunk = list(itertools.islice(self._calls, self._size))
            if not chunk:
                self._exhausted = True
                return
            self._in_flight.append(self._session.send_batch(self._name, self._spec, chunk))
            self._size = min(2 * self._size, MAX_BATCH)

    def _limit(self, calls: int) -> float | None:
        """How long the next batch's replies may take: what is left of the map's timeout,
        else each call's own limit, ``calls`` times over."""
        if self._deadline is not None:
            return max(self._deadline - time.monotonic(), 0.0)
        per_call = self._session.call_timeout(self._spec)
        return None if per_call is None else per_call * calls
