"""``Bridge``: one class whose ``@remote32`` methods run in a 32-bit server.

In the client the metaclass replaces each remote method by a proxy with the same name,
docstring and signature, and constructing the class starts the server. In the server the
same module is imported by file path and the class is left as written.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from typing_extensions import Self

from bitbridge import _role
from bitbridge.options import BridgeOptions, PathLike
from bitbridge.remote import RemoteSpec, remote_spec

if TYPE_CHECKING:
    from bitbridge.client.inprocess import InProcessSession
    from bitbridge.client.session import Call, Session

_SESSION = "_bitbridge_session"
#: On a proxy: the method as written, which the server half (or an in-process bridge) runs.
ORIGINAL = "_bitbridge_original"
R = TypeVar("R")

#: Methods of ``Bridge`` (and the library attribute) that a bridge class must not define:
#: what each does, and a name to use instead.
RESERVED_METHODS = {
    "close": ("Bridge.close() stops the server", "close_device"),
    "configure": ("Bridge.configure() returns the class with other options", "configure_device"),
    "restart": ("Bridge.restart() starts a new server", "restart_device"),
    "lib": ("self.lib is the library bitbridge loaded in the server", "device_lib"),
    "map": ("Bridge.map() pipelines many calls of a remote method", "map_values"),
}
#: The values ``libtype`` may take (besides None).
LIBTYPES = ("cdll", "windll", "oledll", "net")


@dataclass(frozen=True)
class ServerInfo:
    """Facts about a running server process."""

    pid: int
    """The server's process id."""
    pointer_size: int
    """The server's pointer size in bytes: 4 in a 32-bit server."""
    python_version: str
    """The server's Python version, e.g. "3.11.2"."""
    executable: str
    """The server's ``sys.executable``."""
    interpreter: str
    """How the server was started, and where that interpreter was found."""

    @property
    def bits(self) -> int:
        """32 for a 32-bit server, 64 for a 64-bit one."""
        return self.pointer_size * 8

    def __str__(self) -> str:
        return (
            f"pid {self.pid}, pointer size {self.pointer_size} bytes "
            f"({self.bits}-bit Python {self.python_version})"
        )


#: The attribute of a proxy that names the remote method it calls.
_REMOTE_NAME = "__bitbridge_name__"


def _proxy(name: str, method: Callable[..., Any], spec: RemoteSpec) -> Callable[..., Any]:
    @functools.wraps(method)
    def proxy(self: Bridge, *args: Any, **kwargs: Any) -> Any:
        return _session(self).call(name, args, kwargs, spec)

    setattr(proxy, _REMOTE_NAME, name)
    setattr(proxy, ORIGINAL, method)
    return proxy


def remote_method(cls: type, method: Callable[..., Any]) -> tuple[str, RemoteSpec]:
    """Return the name and spec of ``method``, a remote method of ``cls`` given as
    ``Cls.name`` or bound to an instance; TypeError for anything else."""
    function = getattr(method, "__func__", method)
    name = getattr(function, _REMOTE_NAME, None)
    spec = remote_spec(function)
    if name is None or spec is None or getattr(cls, name, None) is not function:
        raise TypeError(
            f"{getattr(method, '__qualname__', method)!r} is not a @remote32 method of "
            f"{cls.__qualname__}; pass one of its own, e.g. {cls.__qualname__}.<method>"
        )
    return name, spec


class BridgeMeta(type):
    """Split a [`Bridge`][bitbridge.Bridge] subclass into its client and server halves."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> BridgeMeta:
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        if any(isinstance(base, BridgeMeta) for base in bases):
            _check_reserved(cls)
        if _role.in_server():
            return cls
        for attr, value in namespace.items():
            spec = remote_spec(value)
            if spec is not None:
                setattr(cls, attr, _proxy(attr, value, spec))
        if cls.__module__ == "__main__" and "__main__" in sys.modules:
            # The server imports a script under this name; let pickles find it here too.
            sys.modules.setdefault(_role.MAIN_ALIAS, sys.modules["__main__"])
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if _role.in_server():
            # The server builds its half without calling the class: a call here is code
            # of the user's module that ran on import, in the server.
            raise RuntimeError(
                f"{cls.__qualname__}() was called while the 32-bit server imported "
                f"{cls.__module__}: code that starts a bridge must not run on import. Put "
                'it under `if __name__ == "__main__":` (or in a function).'
            )
        user_class: Any = cls
        inspect.signature(user_class.__init__).bind(None, *args, **kwargs)  # TypeError here
        instance = user_class.__new__(user_class)
        options: BridgeOptions = user_class.bridge_options
        # The client's sessions, imported here: the server imports this module too.
        session: Session | InProcessSession
        if options.in_process:
            from bitbridge.client.inprocess import InProcessSession

            session = InProcessSession(cls, options, args, kwargs)
        else:
            from bitbridge.client.session import Session

            session = Session(cls, options, args, kwargs)
        instance.__dict__[_SESSION] = session
        weakref.finalize(instance, session.close)
        return instance


def _check_reserved(cls: type) -> None:
    """Refuse a bridge class (or a mixin before ``Bridge`` in its MRO) that redefines a
    method of ``Bridge`` or gives ``library``, ``libtype`` or ``bridge_options`` a value
    of the wrong kind: either would break the bridge in ways that show much later."""
    for klass in cls.__mro__:
        if klass is Bridge:
            return
        where = f"{cls.__qualname__}" if klass is cls else f"{klass.__qualname__} (a base)"
        attributes = vars(klass)
        for attr, (what, instead) in RESERVED_METHODS.items():
            if attr in attributes:
                raise TypeError(
                    f"{where} defines {attr!r}, a name Bridge reserves: {what}, and yours "
                    f"would replace it. Name yours otherwise, e.g. {instead!r}."
                )
        if "library" in attributes:
            library = attributes["library"]
            if library is not None and not isinstance(library, (str, os.PathLike)):
                raise TypeError(
                    f"{where}.library must be the library's file name or path (a str or "
                    f"os.PathLike) or None, not {type(library).__name__}; 'library' is "
                    "reserved for that value."
                )
        if "libtype" in attributes:
            libtype = attributes["libtype"]
            if libtype is not None and libtype not in LIBTYPES:
                kind = ValueError if isinstance(libtype, str) else TypeError
                raise kind(
                    f"{where}.libtype must be one of {', '.join(map(repr, LIBTYPES))} or "
                    f"None, not {libtype!r}; 'libtype' is reserved for that value."
                )
        if "bridge_options" in attributes:
            options = attributes["bridge_options"]
            if not isinstance(options, BridgeOptions):
                raise TypeError(
                    f"{where}.bridge_options must be a BridgeOptions, not "
                    f"{type(options).__name__}; set options with "
                    f"{cls.__qualname__}.configure(...) instead."
                )


def _session(bridge: Bridge) -> Session | InProcessSession:
    try:
        session: Session | InProcessSession = bridge.__dict__[_SESSION]
    except KeyError:
        raise TypeError("this method runs in the server; call it on a started bridge") from None
    return session


class Bridge(metaclass=BridgeMeta):
    """Base class of a bridge to a library hosted by a 32-bit server.

    Subclass it, set ``library`` (and ``libtype``), and mark the methods that must run
    next to the library with [`remote32`][bitbridge.remote32]. Constructing the subclass
    starts the server, passes the constructor arguments to the server half (whose
    ``__init__`` runs there, after ``self.lib`` is loaded) and returns the client half;
    ``close()`` or leaving a ``with`` block stops the server.
    """

    library: ClassVar[PathLike | None] = None
    """The library to load: a file name next to the defining module (suffix optional),
    an absolute path, or a name for the platform's search. None: no library."""
    libtype: ClassVar[str | None] = "cdll"
    """How to load it: "cdll" (default), "windll" or "oledll" (Windows), or "net" (a .NET
    assembly, on the 32-bit Mono of ``bitbridge mono32 install``); None loads no library."""
    bridge_options: ClassVar[BridgeOptions] = BridgeOptions()
    """How the server is started; see [`configure`][bitbridge.Bridge.configure]."""
    lib: Any
    """The loaded library (in the server; in the client, a netref to it)."""

    @classmethod
    def configure(
        cls,
        *,
        python32: PathLike | None = None,
        server32: PathLike | None = None,
        start_timeout: float | None = None,
        timeout: float | None = None,
        concurrent: bool | None = None,
        library: PathLike | None = None,
        library_dirs: Sequence[PathLike] | None = None,
        in_process: bool | None = None,
        server_output: str | None = None,
    ) -> type[Self]:
        """Return this class with other bridge options, apart from constructor arguments.

        ``Cpp.configure(python32="/opt/py32/bin/python")(...)`` starts its server with
        that interpreter; options left out keep their current values. See
        [`BridgeOptions`][bitbridge.BridgeOptions] for what each option means.
        """
        given: dict[str, Any] = {
            "python32": python32,
            "server32": server32,
            "start_timeout": start_timeout,
            "timeout": timeout,
            "concurrent": concurrent,
            "library": library,
            "library_dirs": library_dirs,
            "in_process": in_process,
            "server_output": server_output,
        }
        options = dataclasses.replace(
            cls.bridge_options,
            **{name: value for name, value in given.items() if value is not None},
        )
        namespace = {
            "bridge_options": options,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        }
        configured: Any = BridgeMeta(cls.__name__, (cls,), namespace)
        return cast("type[Self]", configured)

    def close(self) -> None:
        """Stop the server; calling it again does nothing."""
        session = self.__dict__.get(_SESSION)
        if session is not None:
            session.close()

    def restart(self) -> None:
        """Stop the server if it still runs and start a new one with the same arguments
        (after a crash or a timeout, say)."""
        old = _session(self)
        old.close()
        new = old.restarted()
        self.__dict__[_SESSION] = new
        weakref.finalize(self, new.close)

    def map(
        self, method: Callable[..., R], *iterables: Iterable[Any], timeout: float | None = None
    ) -> Iterator[R]:
        """Call the remote method ``method`` with arguments taken from each of
        ``iterables`` in turn, as ``concurrent.futures.Executor.map`` does, and return an
        iterator of the results in order.

        ``method`` is one of this bridge's remote methods, bound (``cpp.add``) or from
        the class (``Cpp.add``). The calls are pipelined: many travel at once on the
        bridge's connection, in batches, and the server runs them one after the other.
        At most 1,280 calls are held at once, so an endless iterable is fine. An
        exception raised by a call is raised when its result is reached, with the remote
        traceback. ``timeout`` (seconds from this call) raises
        [`CallTimeout`][bitbridge.CallTimeout] (a ``TimeoutError``) when a result is not
        there in time, and the server is killed; without it each call keeps its own
        limit.
        """
        name, spec = remote_method(type(self), method)
        # Stops at the shortest iterable, as Executor.map does.
        calls: Iterator[Call] = ((args, {}) for args in zip(*iterables, strict=False))
        return cast("Iterator[R]", _session(self).map(name, spec, calls, timeout))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    if not TYPE_CHECKING:  # a type checker should flag names the class does not declare

        def __getattr__(self, name: str) -> Any:
            # Only reached for names the client half lacks: ask the server half.
            session = self.__dict__.get(_SESSION)
            if session is None or name.startswith("__"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            return session.getattr(name)

    def __repr__(self) -> str:
        session = self.__dict__.get(_SESSION)
        if session is None:
            return f"<{type(self).__qualname__} (server half)>"
        state = "closed" if session.closed else f"pid {session.info.pid}, {session.info.bits}-bit"
        return f"<{type(self).__qualname__} bridge: {state}>"


def flush_events(bridge: Bridge, timeout: float = 10.0) -> None:
    """Wait until every event that the server of ``bridge`` sent so far has reached its
    handler in the client (and the handler returned); raise what a handler raised.

    Events are the calls of your functions that a library makes from threads of its own
    (see the callbacks guide): they are delivered in order, by a thread of bitbridge's,
    while your code goes on; this is the point where your code catches up with them.
    """
    session = _session(bridge)
    flush = getattr(session, "flush_events", None)  # an in-process bridge has no server
    if flush is not None:
        flush(timeout)


def server_info(bridge: Bridge) -> ServerInfo:
    """Return facts about the server of ``bridge``: pid, pointer size, interpreter (for an
    in-process bridge: this process's, with the interpreter "in process")."""
    return _session(bridge).info
