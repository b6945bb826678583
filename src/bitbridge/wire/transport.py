"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach (a server under Wine may
instead accept one loopback connection that proves a secret: ``wire/handshake.py``).
Compression is off (it costs far more than it saves between two local processes) and
TCP sockets get TCP_NODELAY.
"""

from __future__ import annotations

import collections
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from rpyc.core.channel import Channel
from rpyc.core.protocol import Connection
from rpyc.core.service import ClassicService
from rpyc.core.stream import SocketStream, Stream, retry_errnos
from rpyc.lib import Timeout
from rpyc.lib.compat import get_exc_errno

#: bitbridge's own request types: one remote method call in one pickled message, which
#: costs a fraction of rpyc's generic netref call (no proxy to box, few items to encode),
#: and a batch of calls of one method (``Bridge.map``). Each comes in two kinds: queued
#: behind a call the server is running (one call at a time, even while that call waits
#: for a callback into the client and rpyc serves the connection meanwhile), or run at
#: once, for a call made by such a callback, which the running call waits for.
HANDLE_INVOKE = 64
HANDLE_INVOKE_MANY = 65
HANDLE_INVOKE_NOW = 66
HANDLE_INVOKE_MANY_NOW = 67
#: The queued kind of each request type, and its run-at-once twin.
RUN_AT_ONCE = {HANDLE_INVOKE: HANDLE_INVOKE_NOW, HANDLE_INVOKE_MANY: HANDLE_INVOKE_MANY_NOW}

Invoker = Callable[[bytes, tuple[Any, ...]], Any]

# In the connection's configuration: rpyc serves requests while the handshake runs (the
# classic service fetches the other side's root), so what serves them must be there from
# the start, not set on the connection afterwards.
INVOKER = "bitbridge_invoker"
BATCH_INVOKER = "bitbridge_batch_invoker"
ONE_AT_A_TIME = "bitbridge_one_call_at_a_time"
#: What serves a batch: the results, and by index each exception's (type, value, tb).
BatchInvoker = Callable[[bytes, tuple[Any, ...]], tuple[Any, list[tuple[int, Any]]]]


class BridgeConnection(Connection):  # type: ignore[misc]
    """rpyc's connection, plus bitbridge's requests, served by what :func:`connect` was
    given (the server's host): the invoke requests by ``invoker``, the batches by
    ``batch_invoker``. With ``one_call_at_a_time`` (the server's, unless the bridge is
    ``concurrent``) a queued invoke request that arrives while another runs waits until
    it has returned."""

    @classmethod
    def _request_handlers(cls) -> dict[int, Callable[..., Any]]:
        handlers: dict[int, Callable[..., Any]] = super()._request_handlers()
        for queued, at_once in RUN_AT_ONCE.items():
            kind = cls._handle_invoke if queued == HANDLE_INVOKE else cls._handle_invoke_many
            handlers[queued] = handlers[at_once] = kind
        return handlers

    def _handle_invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        return self._served_by(INVOKER)(arguments, refs)

    def _handle_invoke_many(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        results, failures = self._served_by(BATCH_INVOKER)(arguments, refs)
        # Each exception boxed as rpyc boxes that of a call: type, message, traceback.
        return results, tuple((index, self._box_exc(*info)) for index, info in failures)

    def _served_by(self, key: str) -> Invoker:
        invoker: Invoker | None = self._config.get(key)
        if invoker is None:
            raise RuntimeError("this side of the bridge serves no remote method calls")
        return invoker

    def invoke_request(self, queued: int) -> int:
        """The request type to send for a call: run at once when this thread is serving
        a request of the other side (a callback calling the bridge), else queued."""
        return RUN_AT_ONCE[queued] if _serving_depth() else queued

    def _dispatch_request(self, seq: int, raw_args: tuple[int, Any]) -> None:
        handler = raw_args[0]
        if self._config.get(ONE_AT_A_TIME) and handler in RUN_AT_ONCE:
            deferred = self.__dict__.setdefault("_deferred", collections.deque())
            if self.__dict__.get("_invoking"):
                deferred.append((seq, raw_args))
                return
            self._invoking = True
            try:
                self._dispatch_counted(seq, raw_args)
                while deferred:
                    self._dispatch_counted(*deferred.popleft())
            finally:
                self._invoking = False
        else:
            self._dispatch_counted(seq, raw_args)

    def _dispatch_counted(self, seq: int, raw_args: tuple[int, Any]) -> None:
        _local.depth = _serving_depth() + 1
        try:
            super()._dispatch_request(seq, raw_args)
        finally:
            _local.depth -= 1

    def _unbox_exc(self, raw: Any) -> Any:
        exc = super()._unbox_exc(raw)
        if isinstance(exc, BaseException):
            repair_exception(exc)
        return exc


# How many requests of the other side this thread is serving, one inside another.
_local = threading.local()


def _serving_depth() -> int:
    depth: int = getattr(_local, "depth", 0)
    return depth


#: OSError's fields that print when set: rpyc sets them to None where they were unset.
_OSERROR_FIELDS = ("errno", "strerror", "filename", "filename2")


def repair_exception(exc: BaseException) -> None:
    """Undo what rpyc's rebuilding of a remote exception gets wrong: it copies methods
    (``add_note``, a user's own) as their repr strings onto the instance, and sets an
    OSError's unset fields to None, so that it prints as ``[Errno None] None: None``."""
    for name, value in list(vars(exc).items()):
        if (
            isinstance(value, str)
            and value.startswith(("<bound method ", "<built-in method "))
            and callable(getattr(type(exc), name, None))
        ):
            del exc.__dict__[name]
    if isinstance(exc, OSError):
        for field in _OSERROR_FIELDS:
            if getattr(exc, field) is None:
                delattr(exc, field)  # back to unset, as in the exception that was raised


#: How long a side waiting for the other spins before it blocks, in seconds.
SPIN_SECONDS = 100e-6
_yield_processor = getattr(os, "sched_yield", lambda: time.sleep(0))


class BufferedSocketStream(SocketStream):  # type: ignore[misc]
    """rpyc's socket stream with linear-time large frames: rpyc's own ``write`` re-slices
    the rest of the frame after every 64 kB sent (an 8 MB frame copied 64 times over)."""

    def poll(self, timeout: float | None) -> bool:
        # Spin briefly before blocking: a reply or the next request usually comes within
        # tens of microseconds, and waking a processor that went idle costs more than that
        # (about 30 us per message on a virtual machine, measured).
        # Yielding in the loop lets the other side run when both share one processor.
        deadline = time.perf_counter() + SPIN_SECONDS
        while time.perf_counter() < deadline:
            try:
                if select.select([self.sock], [], [], 0)[0]:
                    return True
            except (ValueError, OSError):
                break  # closed by another thread: rpyc's own poll says so, as it expects
            _yield_processor()
        return bool(super().poll(timeout))

    def read(self, count: int) -> bytes:
        frame = bytearray(count)
        view = memoryview(frame)
        received = 0
        while received < count:
            try:
                got = self.sock.recv_into(view[received:])
            except TimeoutError:
                continue
            except OSError as exc:
                if get_exc_errno(exc) in retry_errnos:
                    continue
                self.close()
                raise EOFError(exc) from exc
            if not got:
                self.close()
                raise EOFError("connection closed by peer")
            received += got
        return bytes(frame)

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close()
            raise EOFError(exc) from exc


class WaitingSocketStream(BufferedSocketStream):
    """A socket stream that never spins and, when rpyc waits without a limit, blocks in
    the read instead of a ``select``: under Wine every ``select`` is a round trip to the
    wineserver (about 370 us), and spinning on it only adds more."""

    def poll(self, timeout: float | Timeout | None) -> bool:
        if not (timeout if isinstance(timeout, Timeout) else Timeout(timeout)).finite:
            return True
        return bool(SocketStream.poll(self, timeout))


class BridgeService(ClassicService):  # type: ignore[misc]
    """rpyc's classic service over a :class:`BridgeConnection`."""

    _protocol = BridgeConnection


CONFIG: dict[str, Any] = {
    "sync_request_timeout": None,
    "allow_pickle": True,
    "propagate_KeyboardInterrupt_locally": True,
}


def connect(
    sock: socket.socket,
    timeout: float | None = None,
    bind_threads: bool = False,
    invoker: Invoker | None = None,
    batch_invoker: BatchInvoker | None = None,
    one_call_at_a_time: bool = False,
    spin: bool = True,
) -> BridgeConnection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding). ``invoker`` and
    ``batch_invoker`` serve the invoke requests (the server's); ``one_call_at_a_time``
    queues them behind the one running. ``spin=False`` waits without spinning or polling
    (a server under Wine).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = BufferedSocketStream(sock) if spin else WaitingSocketStream(sock)
    return connect_stream(stream, timeout, bind_threads, invoker, batch_invoker, one_call_at_a_time)


def connect_stream(
    stream: Stream,
    timeout: float | None = None,
    bind_threads: bool = False,
    invoker: Invoker | None = None,
    batch_invoker: BatchInvoker | None = None,
    one_call_at_a_time: bool = False,
) -> BridgeConnection:
    """Run the classic service over an rpyc stream; the arguments are as for ``connect``."""
    channel = Channel(stream, compress=False)
    config = {**CONFIG, "sync_request_timeout": timeout, "bind_threads": bind_threads}
    config |= {INVOKER: invoker, BATCH_INVOKER: batch_invoker, ONE_AT_A_TIME: one_call_at_a_time}
    conn: BridgeConnection = BridgeService._connect(channel, config)
    conn._config["sync_request_timeout"] = None
    return conn
