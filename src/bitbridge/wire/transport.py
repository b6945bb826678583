"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach (a server under Wine may
instead accept one loopback connection that proves a secret: ``wire/handshake.py``).
Compression is off (it costs far more than it saves between two local processes) and
TCP sockets get TCP_NODELAY.
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
from rpyc.core.stream import SocketStream, Stream, retry_errnos
from rpyc.lib import Timeout
from rpyc.lib.compat import get_exc_errno

#: bitbridge's own request type: one remote method call in one pickled message, which
#: costs a fraction of rpyc's generic netref call (no proxy to box, few items to encode).
HANDLE_INVOKE = 64

Invoker = Callable[[bytes, tuple[Any, ...]], Any]


class BridgeConnection(Connection):  # type: ignore[misc]
    """rpyc's connection, plus the :data:`HANDLE_INVOKE` request served by ``invoker``
    (set on the server's connection once the bridge instance has been created)."""

    invoker: Invoker | None = None  # on the instance, by the server's host

    @classmethod
    def _request_handlers(cls) -> dict[int, Callable[..., Any]]:
        handlers: dict[int, Callable[..., Any]] = super()._request_handlers()
        handlers[HANDLE_INVOKE] = cls._handle_invoke
        return handlers

    def _handle_invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        if self.invoker is None:
            raise RuntimeError("no bridge instance has been created in this server yet")
        return self.invoker(arguments, refs)


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
    spin: bool = True,
) -> BridgeConnection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding). ``spin=False``
    waits without spinning or polling (a server under Wine).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = BufferedSocketStream(sock) if spin else WaitingSocketStream(sock)
    return connect_stream(stream, timeout, bind_threads)


def connect_stream(
    stream: Stream, timeout: float | None = None, bind_threads: bool = False
) -> BridgeConnection:
    """Run the classic service over an rpyc stream; the arguments are as for ``connect``."""
    channel = Channel(stream, compress=False)
    conn: BridgeConnection = BridgeService._connect(
        channel, {**CONFIG, "sync_request_timeout": timeout, "bind_threads": bind_threads}
    )
    conn._config["sync_request_timeout"] = None
    return conn
