"""The server's end of the connection when it runs in a Windows Python under Wine,
started by a Linux client (``client/wine_process.py``).

Two transports, the first when this Wine has it:

- ``fd``: the client's socket pair end, inherited as a Linux file descriptor. Wine's
  ``ntdll.dll`` exports ``wine_server_fd_to_handle``, which turns it into a Windows
  handle; ``ReadFile`` and ``WriteFile`` on it are a plain ``read``/``write`` done in this
  process. No listener at all, as on Linux.
- ``tcp``: a listener on 127.0.0.1 that serves the first connection proving the secret
  the client wrote on stdin (``wire/handshake.py``), then closes. Strangers get the
  handshake's greeting and nothing else; each has a short deadline, so one that says
  nothing cannot hold up the real client.

The client's shared memory arena (``wire/shm.py``), an inherited memfd, is mapped through
the same export. What was chosen is reported to the client as one JSON line on stdout.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from rpyc.core.stream import Stream
from rpyc.lib import Timeout

from bitbridge.wire import handshake, shm
from bitbridge.wire.transport import BridgeConnection, Roles, connect, connect_stream

GENERIC_READ, GENERIC_WRITE = 0x80000000, 0x40000000
#: How long one connection may take to prove the secret before it is dropped.
HANDSHAKE_SECONDS = 2.0
#: How many unproven connections are served at once; later ones wait in the backlog.
MAX_PENDING = 8
#: The most one ``WriteFile`` is given.
WRITE_CHUNK = 1 << 20


def _windll(name: str) -> Any:
    loader: Any = getattr(ctypes, "WinDLL")  # noqa: B009 (absent off Windows: typed as Any)
    return loader(name, use_last_error=True)


def _last_error() -> int:
    return int(getattr(ctypes, "get_last_error")())  # noqa: B009


def fd_export() -> Any | None:
    """Return Wine's ``wine_server_fd_to_handle``, or None where ntdll lacks it."""
    return getattr(_windll("ntdll"), "wine_server_fd_to_handle", None)


def fd_to_handle(fd: int, access: int = GENERIC_READ | GENERIC_WRITE) -> int:
    """Return a new Windows handle for the inherited Linux file descriptor ``fd``."""
    export = fd_export()
    if export is None:
        raise OSError(
            "this Wine's ntdll.dll has no wine_server_fd_to_handle: the inherited socket and "
            "the shared memory cannot be used; set BITBRIDGE_WINE_TRANSPORT=tcp (or auto)"
        )
    handle = ctypes.c_void_p()
    status = export(fd, access, 0, ctypes.byref(handle))
    if status or not handle.value:
        raise OSError(f"wine_server_fd_to_handle({fd}) failed: NTSTATUS {status & 0xFFFFFFFF:#x}")
    return handle.value


class HandleStream(Stream):  # type: ignore[misc]
    """An rpyc stream over Windows handles of an inherited socket.

    It reads and writes through separate handles, so that a thread blocked in
    ``ReadFile`` never holds up another thread's ``WriteFile``. It has no selectable
    file number, so it waits by reading: the server only ever waits without a limit.
    """

    __slots__ = ("_closed", "_kernel32", "read_handle", "write_handle")
    #: Below this size rpyc's channel joins a frame's header and body into one write.
    MAX_IO_CHUNK = 64000

    def __init__(self, fd: int) -> None:
        self._kernel32 = _windll("kernel32")
        self._kernel32.ReadFile.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.POINTER(ctypes.c_uint32),
            ctypes.c_void_p,
        ]
        self._kernel32.WriteFile.argtypes = self._kernel32.ReadFile.argtypes
        self._kernel32.CloseHandle.argtypes = [ctypes.c_void_p]
        self.read_handle = fd_to_handle(fd, GENERIC_READ)
        self.write_handle = fd_to_handle(fd, GENERIC_WRITE)
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._kernel32.CloseHandle(self.read_handle)
            self._kernel32.CloseHandle(self.write_handle)

    def fileno(self) -> int:
        raise OSError("a handle stream has no selectable file number")

    def poll(self, timeout: float | Timeout | None) -> bool:
        if not (timeout if isinstance(timeout, Timeout) else Timeout(timeout)).finite:
            return True  # the read that follows blocks until data comes
        raise NotImplementedError("a handle stream cannot wait with a time limit")

    def read(self, count: int) -> bytes:
        frame = bytearray(count)
        if not count:
            return b""
        base = ctypes.addressof((ctypes.c_char * count).from_buffer(frame))
        got = ctypes.c_uint32()
        received = 0
        while received < count:
            ok = self._kernel32.ReadFile(
                self.read_handle, base + received, count - received, ctypes.byref(got), None
            )
            if not ok:
                error = _last_error()
                self.close()
                raise EOFError(f"ReadFile failed (Windows error {error})")
            if not got.value:
                self.close()
                raise EOFError("connection closed by peer")
            received += got.value
        return bytes(frame)

    def write(self, data: bytes) -> None:
        data = bytes(data)  # rpyc's frames are bytes already: no copy
        base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        written = ctypes.c_uint32()
        sent = 0
        while sent < len(data):
            size = min(len(data) - sent, WRITE_CHUNK)
            if not self._kernel32.WriteFile(
                self.write_handle, base + sent, size, ctypes.byref(written), None
            ):
                error = _last_error()
                self.close()
                raise EOFError(f"WriteFile failed (Windows error {error})")
            sent += written.value


def open_connection(
    settings: dict[str, Any], bind_threads: bool, roles: Roles
) -> tuple[BridgeConnection, shm.Arena | None]:
    """Open the transport that ``settings`` (the client's ``wine`` settings) allow and
    map the shared memory arena if there is one; report both on stdout; return the
    connection (with the server's ``roles``) and the arena."""
    transport = settings.get("transport", "auto")
    has_export = fd_export() is not None
    arena = open_arena(settings["arena"]) if "arena" in settings and has_export else None
    if transport == "fd" or (transport == "auto" and has_export):
        stream = HandleStream(int(settings["fd"]))
        _report({"transport": "fd", "arena": arena is not None})
        return connect_stream(stream, bind_threads=bind_threads, roles=roles), arena
    secret = bytes.fromhex(settings["secret"])
    listener = _listen()
    _report({"transport": "tcp", "port": listener.getsockname()[1], "arena": arena is not None})
    deadline = time.monotonic() + float(settings.get("accept_timeout", 60.0))
    sock = accept_proven(listener, secret, deadline)
    if sock is None:
        raise SystemExit("bitbridge server: no client proved the secret in time")
    return connect(sock, bind_threads=bind_threads, roles=roles, spin=False), arena


def event_writer(settings: dict[str, Any]) -> Callable[[bytes], None] | None:
    """What writes events to the client (its events' socket, inherited as the main one
    is), or None on the TCP path."""
    if "events_fd" not in settings or fd_export() is None:
        return None
    return HandleStream(int(settings["events_fd"])).write


def open_arena(settings: dict[str, Any]) -> shm.Arena:
    """Map the client's shared memory arena, an inherited memfd, by its views."""
    open_osfhandle = getattr(importlib.import_module("msvcrt"), "open_osfhandle")  # noqa: B009
    descriptor = open_osfhandle(fd_to_handle(int(settings["fd"])), os.O_RDWR)
    return shm.Arena(
        descriptor, int(settings["size"]), int(settings["id"]), first_half=False, whole=False
    )


def _report(details: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(details) + "\n")
    sys.stdout.flush()


def _listen() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
    if exclusive is not None:  # Windows: no other socket may bind the same port
        listener.setsockopt(socket.SOL_SOCKET, exclusive, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(MAX_PENDING)
    return listener


def accept_proven(listener: socket.socket, secret: bytes, deadline: float) -> socket.socket | None:
    """Return the first connection that proves ``secret`` before ``deadline`` (or None),
    having closed the listener and every other connection."""
    won: list[socket.socket] = []
    pending: set[socket.socket] = set()
    lock = threading.Lock()
    done = threading.Event()
    slots = threading.BoundedSemaphore(MAX_PENDING)

    def prove(conn: socket.socket) -> None:
        try:
            handshake.server_half(conn, secret, HANDSHAKE_SECONDS)
        except (handshake.HandshakeError, OSError) as exc:
            sys.stderr.write(f"bitbridge server: dropped a connection: {exc}\n")
            conn.close()
        else:
            with lock:
                if won:
                    conn.close()
                else:
                    won.append(conn)
                    done.set()
        finally:
            with lock:
                pending.discard(conn)
            slots.release()

    listener.settimeout(0.2)
    try:
        while not done.is_set() and time.monotonic() < deadline:
            if not slots.acquire(timeout=0.2):
                continue  # MAX_PENDING handshakes run: wait for one to end
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                slots.release()
                continue
            conn.setblocking(True)
            with lock:
                pending.add(conn)
            threading.Thread(target=prove, args=(conn,), daemon=True).start()
        done.wait(max(0.0, min(HANDSHAKE_SECONDS, deadline - time.monotonic())))
    finally:
        listener.close()  # one connection only: from now on nobody can even connect
        with lock:
            for conn in pending - set(won):
                _drop(conn)
    return won[0] if won else None


def _drop(conn: socket.socket) -> None:
    """Close a connection that a handshake thread may still be reading."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
