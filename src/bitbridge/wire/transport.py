"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach. Compression is off (it costs
far more than it saves between two local processes) and TCP sockets get TCP_NODELAY.

Besides rpyc's own requests the connection carries bitbridge's: a remote method call
(:data:`HANDLE_INVOKE`, client to server) and a call of a client callable by the server
(:data:`HANDLE_CALLBACK`), each in one pickled message (``payload``). In the client's
requests, ctypes values and types go by value (``ctypes_values``), never as netrefs.
"""

from __future__ import annotations

import os
import pickle
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from rpyc.core import consts
from rpyc.core.channel import Channel
from rpyc.core.protocol import Connection
from rpyc.core.service import ClassicService
from rpyc.core.stream import SocketStream, retry_errnos
from rpyc.lib.compat import get_exc_errno

from bitbridge.wire import ctypes_values

#: bitbridge's own request type: one remote method call in one pickled message, which
#: costs a fraction of rpyc's generic netref call (no proxy to box, few items to encode).
HANDLE_INVOKE = 64
#: bitbridge's request for a call of a client callable by the server: its arguments in
#: one pickled message (``payload.dumps_callback``), where rpyc's HANDLE_CALL would box
#: them as netrefs, a round trip per element. Served by the client.
HANDLE_CALLBACK = 70

#: Serves a HANDLE_INVOKE: (pickled call, objects set aside) -> result.
Invoker = Callable[[bytes, tuple[Any, ...]], Any]
#: Packs the arguments of a call into the other side: (args, kwargs) -> (pickle, refs).
CallPacker = Callable[[tuple[Any, ...], dict[str, Any]], tuple[bytes, tuple[Any, ...]]]
#: Serves a HANDLE_CALLBACK: (the callable, pickled arguments, refs) -> result.
CallbackInvoker = Callable[[Any, bytes, tuple[Any, ...]], Any]
#: The error to raise for a request that found the connection lost (the client's, set in
#: the configuration under CONNECTION_LOST).
ConnectionLost = Callable[[], BaseException]

# In the connection's configuration: rpyc serves requests while the handshake runs (the
# classic service fetches the other side's root), so what serves them must be there from
# the start, not set on the connection afterwards.
INVOKER = "bitbridge_invoker"
CALL_PACKER = "bitbridge_call_packer"
CALLBACK_INVOKER = "bitbridge_callback_invoker"
CONNECTION_LOST = "bitbridge_connection_lost"
CTYPES_BY_VALUE = "bitbridge_ctypes_by_value"

#: rpyc's box label of a ctypes value or type pickled by ``ctypes_values`` (rpyc's own
#: labels are 1 to 4).
LABEL_CTYPES = 16

# The rpyc requests that carry the user's objects: netref calls, method calls, setattr.
_USER_OBJECT_REQUESTS = frozenset(
    {consts.HANDLE_CALL, consts.HANDLE_CALLATTR, consts.HANDLE_SETATTR}
)

# What a lost connection raises in rpyc (BufferedSocketStream raises EOFError itself).
_LOST = (EOFError, ConnectionError)


class _Encoded:
    """A ctypes value or type of a request, already pickled by ``ctypes_values``."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _by_value(obj: Any) -> Any:
    """``obj`` with the ctypes values and types in it (in tuples, and lists of them, such
    as an ``argtypes`` list) pickled by ``ctypes_values``; raises the TypeError of what
    cannot cross. A ctypes function pointer, a callable, stays a reference."""
    kind = type(obj)
    if kind is tuple:
        return tuple(map(_by_value, obj))
    if kind is list and any(map(_is_ctypes, obj)):
        return tuple(map(_by_value, obj))
    if _is_ctypes(obj):
        return _Encoded(ctypes_values.dumps(obj))
    return obj


def _is_ctypes(obj: Any) -> bool:
    is_value = ctypes_values.is_ctypes_value(obj) and not callable(obj)
    return is_value or ctypes_values.is_ctypes_type(obj)


class BridgeConnection(Connection):  # type: ignore[misc]
    """rpyc's connection, plus bitbridge's requests and rules, each set in the
    configuration by :func:`connect`: :data:`HANDLE_INVOKE` served by an ``invoker``
    (the server's host); the server's calls of client callables sent as
    :data:`HANDLE_CALLBACK` (packed by a ``call_packer``, the server's) and served by a
    ``callback_invoker`` (the client's); the client's ctypes values and types by value;
    a lost connection raised as the error that :data:`CONNECTION_LOST` gives (the
    client's)."""

    @classmethod
    def _request_handlers(cls) -> dict[int, Callable[..., Any]]:
        handlers: dict[int, Callable[..., Any]] = super()._request_handlers()
        handlers[HANDLE_INVOKE] = cls._handle_invoke
        handlers[HANDLE_CALLBACK] = cls._handle_callback
        return handlers

    def _handle_invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        invoker: Invoker | None = self._config.get(INVOKER)
        if invoker is None:
            raise RuntimeError("this side of the bridge serves no remote method calls")
        return invoker(arguments, refs)

    def _handle_callback(self, function: Any, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        invoker: CallbackInvoker | None = self._config.get(CALLBACK_INVOKER)
        if invoker is None:
            raise RuntimeError("this side of the bridge serves no callbacks")
        return invoker(function, arguments, refs)

    def async_request(self, handler: int, *args: Any, **kwargs: Any) -> Any:
        packer: CallPacker | None = self._config.get(CALL_PACKER)
        if handler == consts.HANDLE_CALL and packer is not None:
            # A netref call (of a client callable, in the server): its arguments by value.
            function, call_args, *call_kwargs = args
            packed = packer(call_args, dict(*call_kwargs))
            handler, args = HANDLE_CALLBACK, (function, *packed)
        elif handler in _USER_OBJECT_REQUESTS and self._config.get(CTYPES_BY_VALUE):
            args = _by_value(args)
        return super().async_request(handler, *args, **kwargs)

    def sync_request(self, handler: int, *args: Any) -> Any:
        try:
            return super().sync_request(handler, *args)
        except _LOST:
            lost: ConnectionLost | None = self._config.get(CONNECTION_LOST)
            if lost is None or handler == consts.HANDLE_CLOSE:
                raise
            raise lost() from None

    def _box(self, obj: Any) -> Any:
        if type(obj) is _Encoded:
            return LABEL_CTYPES, obj.data
        return super()._box(obj)

    def _unbox(self, package: Any) -> Any:
        label, value = package
        if label == LABEL_CTYPES:
            return pickle.loads(value)
        return super()._unbox(package)

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
    call_packer: CallPacker | None = None,
    callback_invoker: CallbackInvoker | None = None,
    ctypes_by_value: bool = False,
) -> BridgeConnection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding). The server gives
    ``invoker``, which serves the :data:`HANDLE_INVOKE` requests, and ``call_packer``,
    which packs the arguments of its netref calls into :data:`HANDLE_CALLBACK` requests.
    The client gives ``callback_invoker``, which serves those, and ``ctypes_by_value``:
    its netref calls and attribute settings send ctypes values and types by value. (The
    client sets :data:`CONNECTION_LOST` once the bridge has started.)
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(BufferedSocketStream(sock), compress=False)
    config = {
        **CONFIG,
        "sync_request_timeout": timeout,
        "bind_threads": bind_threads,
        INVOKER: invoker,
        CALL_PACKER: call_packer,
        CALLBACK_INVOKER: callback_invoker,
        CTYPES_BY_VALUE: ctypes_by_value,
    }
    conn: BridgeConnection = BridgeService._connect(channel, config)
    conn._config["sync_request_timeout"] = None
    return conn
