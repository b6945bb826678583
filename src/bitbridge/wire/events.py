"""Events: calls of client callables made by threads of the server that serve no request,
such as the threads a driver starts to report "data ready".

Such a call cannot wait for the client: the client reads its connection only while one
of its own calls is in flight. So it becomes an event on a channel of its own, a second
socket pair that the client hands the server at spawn: the calling thread queues it and
returns None at once; a sender thread of the server writes the events in order; a
receiver thread of the client (``bitbridge-events-<pid>``) reads them and calls the
functions, one after the other, in the order fired, whatever the client is doing.

A frame is a 4-byte length and a pickle of ``(function id, arguments)``: the function by
the id under which the client's connection keeps it for the server, the arguments by
value (``payload.dumps_event``). Both sides run this module.
"""

from __future__ import annotations

import logging
import pickle
import queue
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from bitbridge.wire import payload

log = logging.getLogger("bitbridge.events")

_LENGTH = struct.Struct(">I")


class EventSender:
    """The server's end: queues events and writes them in order from a thread of its
    own, so that a library's thread never waits for the client. ``write`` sends bytes
    (a socket's ``sendall``; under Wine, a handle's)."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="bitbridge-events", daemon=True)
        self._thread.start()

    def send(self, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Queue a call of the client's ``function`` (a netref) with these arguments."""
        try:
            arguments = payload.dumps_event(args, kwargs)
        except Exception:
            log.exception("an event for %r could not be sent", function)
            return
        self._put((object.__getattribute__(function, "____id_pack__"), arguments))

    def mark(self, token: int) -> None:
        """Queue a mark behind the events queued so far; the receiver notes its token
        when it has delivered them (``EventReceiver.wait_for_mark``)."""
        self._put((None, token))

    def _put(self, message: tuple[Any, Any]) -> None:
        frame = pickle.dumps(message)
        self._queue.put(_LENGTH.pack(len(frame)) + frame)

    def _run(self) -> None:
        while (frame := self._queue.get()) is not None:
            try:
                self._write(frame)
            except (OSError, EOFError):
                return  # the client is gone


class EventReceiver:
    """The client's end: a thread that reads events and calls their functions.

    ``lookup`` finds a function by the id the server sent; ``failed`` gets the exception
    a function raised (after it was logged).
    """

    def __init__(
        self,
        sock: socket.socket,
        lookup: Callable[[Any], Any],
        failed: Callable[[BaseException], None],
        name: str,
    ) -> None:
        self._sock, self._lookup, self._failed = sock, lookup, failed
        self.delivered = 0
        self._marked = 0
        self._mark_seen = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (frame := self._read_frame()) is not None:
            function_id, arguments = pickle.loads(frame)
            if function_id is None:
                with self._mark_seen:
                    self._marked = arguments
                    self._mark_seen.notify_all()
                continue
            try:
                args, kwargs = payload.loads(arguments, ())
                self._lookup(function_id)(*args, **kwargs)
            except Exception as exc:
                log.error("an event handler raised %s: %s", type(exc).__name__, exc, exc_info=exc)
                self._failed(exc)
            self.delivered += 1

    def _read_frame(self) -> bytes | None:
        header = self._read(_LENGTH.size)
        return None if header is None else self._read(_LENGTH.unpack(header)[0])

    def _read(self, count: int) -> bytes | None:
        data = bytearray()
        while len(data) < count:
            try:
                chunk = self._sock.recv(count - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def wait_for_mark(self, token: int, timeout: float) -> bool:
        """Wait until the mark ``token`` has come through; False on a timeout."""
        with self._mark_seen:
            return self._mark_seen.wait_for(lambda: self._marked >= token, timeout)

    def join(self, timeout: float) -> None:
        """Wait for the events already sent (the server has exited: its end is closed)."""
        self._thread.join(timeout)
