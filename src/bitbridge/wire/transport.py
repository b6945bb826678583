"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach. Compression is off (it costs
far more than it saves between two local processes) and TCP sockets get TCP_NODELAY.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from rpyc.core.channel import Channel
from rpyc.core.protocol import Connection
from rpyc.core.service import ClassicService
from rpyc.core.stream import SocketStream, retry_errnos
from rpyc.lib.compat import get_exc_errno

#: bitbridge's own request type: one remote method call in one pickled message, which
#: costs a fraction of rpyc's generic netref call (no proxy to box, few items to encode).
HANDLE_INVOKE = 64

Invoker = Callable[[bytes, tuple[Any, ...]], Any]

# In the connection's configuration: rpyc serves requests while the handshake runs (the
# classic service fetches the other side's root), so what serves them must be there from
# the start, not set on the connection afterwards.
INVOKER = "bitbridge_invoker"


class BridgeConnection(Connection):  # type: ignore[misc]
    """rpyc's connection, plus the :data:`HANDLE_INVOKE` request, served by the
    ``invoker`` given to :func:`connect` (the server's host)."""

    @classmethod
    def _request_handlers(cls) -> dict[int, Callable[..., Any]]:
        handlers: dict[int, Callable[..., Any]] = super()._request_handlers()
        handlers[HANDLE_INVOKE] = cls._handle_invoke
        return handlers

    def _handle_invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        invoker: Invoker | None = self._config.get(INVOKER)
        if invoker is None:
            raise RuntimeError("this side of the bridge serves no remote method calls")
        return invoker(arguments, refs)

    def _unbox_exc(self, raw: Any) -> Any:
        exc = super()._unbox_exc(raw)
        if isinstance(exc, BaseException):
            repair_exception(exc)
        return exc


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
            if select.select([self.sock], [], [], 0)[0]:
                return True
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
) -> BridgeConnection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding). ``invoker``
    serves the :data:`HANDLE_INVOKE` requests (the server's).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(BufferedSocketStream(sock), compress=False)
    config = {**CONFIG, "sync_request_timeout": timeout, "bind_threads": bind_threads}
    conn: BridgeConnection = BridgeService._connect(channel, {**config, INVOKER: invoker})
    conn._config["sync_request_timeout"] = None
    return conn
