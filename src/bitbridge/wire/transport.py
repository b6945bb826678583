"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach (a server under Wine may
instead accept one loopback connection that proves a secret: ``wire/handshake.py``).
Compression is off (it costs far more than it saves between two local processes) and
TCP sockets get TCP_NODELAY.

Besides rpyc's own requests the connection carries bitbridge's, each in one pickled
message (``payload``): remote method calls, one or a batch (client to server), and calls
of a client callable by the server (:data:`HANDLE_CALLBACK`). In the client's requests,
ctypes values and types go by value (``ctypes_values``), never as netrefs. What each
side serves and how it sends is its :class:`Roles`.
"""

from __future__ import annotations

import collections
import pickle
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rpyc.core import consts
from rpyc.core.channel import Channel
from rpyc.core.protocol import Connection
from rpyc.core.service import ClassicService
from rpyc.core.stream import Stream
from rpyc.lib import spawn

from bitbridge.wire import ctypes_values, payload
from bitbridge.wire.events import EventSender
from bitbridge.wire.streams import BufferedSocketStream, WaitingSocketStream

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
#: bitbridge's request for a call of a client callable by the server: its arguments in
#: one pickled message (``payload.dumps_callback``), where rpyc's HANDLE_CALL would box
#: them as netrefs, a round trip per element. Served by the client.
HANDLE_CALLBACK = 70

#: Serves a HANDLE_INVOKE: (pickled call, objects set aside) -> result.
Invoker = Callable[[bytes, tuple[Any, ...]], Any]
#: Serves a batch: the results, and by index each exception's (type, value, tb).
BatchInvoker = Callable[[bytes, tuple[Any, ...]], tuple[Any, list[tuple[int, Any]]]]
#: Packs the arguments of a call into the other side: (args, kwargs) -> (pickle, refs).
CallPacker = Callable[[tuple[Any, ...], dict[str, Any]], tuple[bytes, tuple[Any, ...]]]
#: Serves a HANDLE_CALLBACK: (the callable, pickled arguments, refs) -> result.
CallbackInvoker = Callable[[Any, bytes, tuple[Any, ...]], Any]
#: The error to raise for a request that found the connection lost (the client's, set in
#: the configuration under CONNECTION_LOST once its bridge has started).
ConnectionLost = Callable[[], BaseException]


@dataclass(frozen=True)
class Roles:
    """What one side of a connection serves, and how it sends.

    The server serves the invoke requests (``invoker``, ``batch_invoker``), one at a time
    unless the bridge is ``concurrent`` (``one_call_at_a_time``), and sends its netref
    calls of client callables as HANDLE_CALLBACK requests packed by ``call_packer``, or,
    made by a thread that serves no request (a library's own), as events through
    ``event_sender`` (``wire/events.py``), which return None at once. The
    client serves those with ``callback_invoker`` (by default: unpack the arguments and
    call) and sends ctypes values and types by value (``ctypes_by_value``).
    """

    invoker: Invoker | None = None
    batch_invoker: BatchInvoker | None = None
    one_call_at_a_time: bool = False
    call_packer: CallPacker | None = None
    event_sender: EventSender | None = None
    callback_invoker: CallbackInvoker = payload.call_packed
    ctypes_by_value: bool = False


# In the connection's configuration: rpyc serves requests while the handshake runs (the
# classic service fetches the other side's root), so what serves them must be there from
# the start, not set on the connection afterwards.
ROLES = "bitbridge_roles"
CONNECTION_LOST = "bitbridge_connection_lost"

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
    """rpyc's connection, plus bitbridge's requests and rules, as its :class:`Roles`
    (given to :func:`connect`) say, and a lost connection raised as the error that
    :data:`CONNECTION_LOST` gives (the client's)."""

    @classmethod
    def _request_handlers(cls) -> dict[int, Callable[..., Any]]:
        handlers: dict[int, Callable[..., Any]] = super()._request_handlers()
        for queued, at_once in RUN_AT_ONCE.items():
            kind = cls._handle_invoke if queued == HANDLE_INVOKE else cls._handle_invoke_many
            handlers[queued] = handlers[at_once] = kind
        handlers[HANDLE_CALLBACK] = cls._handle_callback
        return handlers

    def __init__(self, root: Any, channel: Any, config: dict[str, Any]) -> None:
        #: What this side serves and how it sends. Set before rpyc's own set-up, which
        #: serves requests already (the handshake).
        self.roles: Roles = config.get(ROLES) or Roles()
        # The requests of a one-call-at-a-time server that came in while one ran.
        self._deferred: collections.deque[tuple[int, tuple[int, Any]]] = collections.deque()
        self._invoking = False
        super().__init__(root, channel, config)

    def _handle_invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        invoker = self.roles.invoker
        if invoker is None:
            raise _serves_no("remote method calls")
        return invoker(arguments, refs)

    def _handle_invoke_many(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        serve = self.roles.batch_invoker
        if serve is None:
            raise _serves_no("batches of calls")
        results, failures = serve(arguments, refs)
        # Each exception boxed as rpyc boxes that of a call: type, message, traceback.
        return results, tuple((index, self._box_exc(*info)) for index, info in failures)

    def _handle_callback(self, function: Any, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        return self.roles.callback_invoker(function, arguments, refs)

    def invoke_request(self, queued: int) -> int:
        """The request type to send for a call: run at once when this thread is serving
        a request of the other side (a callback calling the bridge), else queued."""
        return RUN_AT_ONCE[queued] if serving_depth() else queued

    def async_request(self, handler: int, *args: Any, **kwargs: Any) -> Any:
        roles = self.roles
        if handler == consts.HANDLE_CALL and roles.call_packer is not None:
            # A netref call (of a client callable, in the server): its arguments by value.
            function, call_args, *call_kwargs = args
            if roles.event_sender is not None and not serving_depth():
                roles.event_sender.send(function, call_args, dict(*call_kwargs))
                return _SENT
            packed = roles.call_packer(call_args, dict(*call_kwargs))
            handler, args = HANDLE_CALLBACK, (function, *packed)
        elif handler in _USER_OBJECT_REQUESTS and roles.ctypes_by_value:
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

    def _dispatch_request(self, seq: int, raw_args: tuple[int, Any]) -> None:
        if not self._bind_threads:
            # rpyc has released the receive lock to serve this request but tells the
            # threads that wait for that lock only once the request has been served: a
            # thread waiting for its reply (a library's thread calling the client while
            # this request waits for that thread) would wait for ever (rpyc issue #530).
            with self._recv_event:
                self._recv_event.notify_all()
        handler = raw_args[0]
        if self.roles.one_call_at_a_time and handler in RUN_AT_ONCE:
            deferred = self._deferred
            if self._invoking:
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
        depth = getattr(_local, "depth", 0)  # serving_depth(), inline: on every request
        _local.depth = depth + 1
        try:
            super()._dispatch_request(seq, raw_args)
        finally:
            _local.depth = depth

    def serve_threaded(self, thread_count: int = 10) -> None:
        """Serve from ``thread_count`` threads until the connection closes. As rpyc's own,
        but quiet at the end: rpyc's clean-up releases the send lock under a thread that
        holds it, and that thread's error ("release unlocked lock", a closed descriptor)
        once the connection is closed tells nothing."""

        def serve() -> None:
            try:
                while True:
                    self.serve(None)
            except EOFError:
                pass
            except Exception:
                if not self.closed:
                    raise

        threads = [spawn(serve) for _ in range(thread_count)]
        try:
            for thread in threads:
                thread.join()
        finally:
            self.close()

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


class _Sent:
    """What a call sent as an event returns at once: a result that is there, None."""

    value = None

    def set_expiry(self, timeout: float | None) -> None:
        pass


_SENT = _Sent()


def _serves_no(what: str) -> RuntimeError:
    return RuntimeError(f"this side of the bridge serves no {what}")


# How many requests of the other side this thread is serving, one inside another.
_local = threading.local()


def serving_depth() -> int:
    """How many requests of the other side this thread is serving, one inside another
    (0: it serves none, as a thread a library started itself)."""
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
    roles: Roles | None = None,
    spin: bool = True,
) -> BridgeConnection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding). ``roles`` says
    what this side serves and how it sends. ``spin=False`` waits without spinning or
    polling (a server under Wine).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = BufferedSocketStream(sock) if spin else WaitingSocketStream(sock)
    return connect_stream(stream, timeout, bind_threads, roles)


def connect_stream(
    stream: Stream,
    timeout: float | None = None,
    bind_threads: bool = False,
    roles: Roles | None = None,
) -> BridgeConnection:
    """Run the classic service over an rpyc stream; the arguments are as for ``connect``."""
    channel = Channel(stream, compress=False)
    config = {**CONFIG, "sync_request_timeout": timeout, "bind_threads": bind_threads}
    conn: BridgeConnection = BridgeService._connect(channel, {**config, ROLES: roles or Roles()})
    conn._config["sync_request_timeout"] = None
    return conn
