"""The server half: serve the connection, import the user's class, run remote methods.

Imported only in the server process, by :mod:`bitbridge.server.bootstrap`.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import struct
import sys
import traceback
from pathlib import Path
from typing import Any

from bitbridge import _role, callbacks
from bitbridge.errors import CopyError, ServerImportError, uncopyable
from bitbridge.modules import load_from_file, load_from_source
from bitbridge.server import client_packages
from bitbridge.server.library import load_library
from bitbridge.wire import payload, shm
from bitbridge.wire.events import EventSender
from bitbridge.wire.transport import BridgeConnection, Roles, connect

#: Threads that serve one client when the bridge is configured ``concurrent=True``.
CONCURRENT_THREADS = 16


class _Serving:
    """What this server process serves: its one bridge instance (once ``create`` has
    built it), the blocks of its copied results, and where its library's dependencies are
    looked for (as the client computed them)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.instance: Any = None
        self.conn: BridgeConnection | None = None  # once connected
        self.in_order = not settings.get("concurrent")
        self.results = payload.ResultBlocks(in_order=self.in_order)
        self.library_dirs: list[str] = settings.get("library_dirs", [])
        self.library_path: list[str] = settings.get("library_path", [])
        self.events = _event_sender(settings)

    def invoke(self, arguments: bytes, refs: tuple[Any, ...]) -> Any:
        """Serve one remote method call of the connection."""
        instance = self.instance  # not self._created(): a frame less on every call
        if instance is None:
            self._created()
        return invoke(instance, self.results, arguments, refs)

    def invoke_many(
        self, arguments: bytes, refs: tuple[Any, ...]
    ) -> tuple[Any, list[tuple[int, Any]]]:
        """Serve a batch of calls of one method (``Bridge.map``)."""
        return invoke_many(self._created(), arguments, refs)

    def _created(self) -> Any:
        if self.instance is None:
            raise RuntimeError("no bridge instance has been created in this server yet")
        return self.instance

    def use_arena(self, arena: shm.Arena | None) -> None:
        """Put copied results' large buffers into ``arena`` (a server under Wine)."""
        if arena is not None:
            self.results = payload.ResultBlocks(in_order=self.in_order, arena=arena)

    def pack_callback(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[bytes, tuple[Any, ...]]:
        """Pack the arguments of a call into the client (of a callback) by value."""
        return payload.dumps_callback(args, kwargs, self.results)


_serving: _Serving | None = None


def serve(settings: dict[str, Any]) -> None:
    """Serve the client over the inherited socket (or Wine's transport) until it
    disconnects."""
    if hasattr(signal, "SIGINT"):
        # Ctrl-C in a terminal reaches the whole process group; the client handles it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _serving
    sys.path[:0] = settings.get("sys_path", [])
    client_packages.install(settings.get("client_path", []))
    concurrent = bool(settings.get("concurrent"))
    _serving = _Serving(settings)
    roles = Roles(
        invoker=_serving.invoke,
        batch_invoker=_serving.invoke_many,
        one_call_at_a_time=not concurrent,
        call_packer=_serving.pack_callback,
        event_sender=_serving.events,
    )
    if "wine" in settings:  # under Wine, started by a Linux client
        from bitbridge.server.wine import open_connection

        conn, arena = open_connection(settings["wine"], concurrent, roles)
        _serving.use_arena(arena)
    else:
        conn = connect(_inherited_socket(settings), bind_threads=concurrent, roles=roles)
    _serving.conn = conn
    try:
        if concurrent:
            conn.serve_threaded(CONCURRENT_THREADS)
        else:
            conn.serve_all()  # one request at a time: most vendor libraries need that
    finally:
        conn.close()


def _event_sender(settings: dict[str, Any]) -> EventSender | None:
    """The sender of events (calls of client callables from a library's own threads),
    over the channel the client handed over; None where there is none (a server under
    Wine on TCP: such calls then wait for the client's next call)."""
    if "events_share" in settings:  # Windows
        events = socket.fromshare(bytes.fromhex(settings["events_share"]))  # type: ignore[attr-defined]
        return EventSender(events.sendall)
    if "events_fd" in settings:
        return EventSender(socket.socket(fileno=settings["events_fd"]).sendall)
    if "wine" in settings:
        from bitbridge.server.wine import event_writer

        write = event_writer(settings["wine"])
        return None if write is None else EventSender(write)
    return None


def _inherited_socket(settings: dict[str, Any]) -> socket.socket:
    if "socket_share" in settings:  # Windows: the client duplicated its socket for us
        return socket.fromshare(bytes.fromhex(settings["socket_share"]))  # type: ignore[attr-defined,no-any-return]
    return socket.socket(fileno=settings["fd"])


def mark_events(token: int) -> bool:
    """Queue a mark behind the events sent so far (``bitbridge.flush_events``); False
    when this server has no events' channel."""
    if _serving is None or _serving.events is None:
        return False
    _serving.events.mark(token)
    return True


def info() -> tuple[int, int, str, str]:
    """Return the server's pid, pointer size in bytes, Python version and executable."""
    return os.getpid(), struct.calcsize("P"), sys.version.split()[0], sys.executable


def create(
    module_file: str,
    module_name: str,
    qualname: str,
    arguments: bytes,
    refs: tuple[Any, ...],
    source: str | None = None,
    library: str | None = None,
) -> Any:
    """Import the user's class, load its library (``library``, the bridge's option, in
    place of the class's own when given) and construct the server half, which then serves
    the connection's remote method calls. With ``source`` (a class of a ``__main__``
    without a file, such as a notebook's) the module is built from that source, compiled
    under the name ``module_file``, instead of imported from a file."""
    assert _serving is not None, "create() is called over the connection that serve() runs"
    cls = _import_class(module_file, module_name, qualname, source)
    instance = cls.__new__(cls)
    instance.lib = load_library(
        library if library is not None else cls.library,
        cls.libtype,
        Path(module_file).parent,
        _serving.library_dirs,
        _serving.library_path,
        cls.__qualname__,
    )
    args, kwargs = payload.loads(arguments, refs)
    instance.__init__(*args, **kwargs)
    # One bridge instance per server process: its calls are served from now on.
    _serving.instance = instance
    return instance


def invoke(
    instance: Any, results: payload.ResultBlocks, arguments: bytes, refs: tuple[Any, ...]
) -> Any:
    """Run one remote method call packed by the client; with ``copy`` pickle the result."""
    name, copy, args, kwargs = payload.loads(arguments, refs)
    with callbacks.collecting():
        result = getattr(instance, name)(*args, **kwargs)
    return _copied(instance, name, result, results) if copy else result


def invoke_many(
    instance: Any, arguments: bytes, refs: tuple[Any, ...]
) -> tuple[Any, list[tuple[int, Any]]]:
    """Run a batch of calls of one method (``Bridge.map``), one after the other; return
    their results (pickled together with ``copy``) and, by index, the exceptions raised
    (as ``sys.exc_info()``, for the connection to box)."""
    name, copy, calls = payload.loads(arguments, refs)
    method = getattr(instance, name)
    results: list[Any] = []
    failures: list[tuple[int, Any]] = []
    for index, (args, kwargs) in enumerate(calls):
        try:
            with callbacks.collecting():
                results.append(method(*args, **kwargs))
        except Exception:
            results.append(None)
            failures.append((index, sys.exc_info()))
    # Copied results of a batch skip shared memory: the client may read them after the
    # next batch has come in, when the server reuses its result blocks.
    packed = _copied(instance, name, results, None) if copy else tuple(results)
    return packed, failures


def _copied(
    instance: Any, name: str, result: Any, results: payload.ResultBlocks | None
) -> tuple[bytes, tuple[Any, ...]]:
    try:
        return payload.dumps_result(result, results)
    except Exception as exc:
        raise CopyError(uncopyable(type(instance).__name__, name, result, exc)) from None


def _import_class(module_file: str, module_name: str, qualname: str, source: str | None) -> Any:
    try:
        module = _import_module(module_file, module_name, source)
    except BaseException as exc:
        hint = ""
        missing = (exc.name or "") if isinstance(exc, ModuleNotFoundError) else ""
        package = missing.split(".")[0]
        if getattr(sys, "frozen", False) and package and package != module_name.split(".")[0]:
            # A package the frozen server lacks (not the user's module itself).
            hint = (
                f"\nThis frozen server lacks the package {package!r}. Freeze one that has it: "
                f"`bitbridge server32 build --imports {package}` (add --packages <pip name> if "
                "the 32-bit Python lacks it too; on Windows the command names the freeze "
                f"script to run with --imports {package} by a 32-bit Python that has it)."
            )
        if source is not None:
            hint += (
                "\nThat module is what bitbridge built from the client's '__main__' (its "
                "comments name the cells): the server imports each module that the server "
                "half uses; see docs/pages/guide/notebooks.md."
            )
        raise ServerImportError(
            f"importing {module_file} in the server failed:\n{traceback.format_exc()}{hint}"
        ) from None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not isinstance(found, type):
        raise ServerImportError(
            f"{module_file} imported in the server, but defines no class {qualname!r} at "
            "module level; define the bridge class at the top level of a module."
        )
    return found


def _import_module(module_file: str, module_name: str, source: str | None) -> Any:
    folder = str(Path(module_file).parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    if module_name == "__main__":
        # A script (or a notebook's cells): import it under another name so its main
        # block does not run, and alias it as __main__ so pickles that name __main__
        # resolve on both sides.
        if source is None:
            module = load_from_file(_role.MAIN_ALIAS, module_file)
        else:
            module = load_from_source(_role.MAIN_ALIAS, module_file, source)
        sys.modules["__main__"] = module
        return module
    root = _package_root(Path(module_file), module_name)
    if root is None:
        return load_from_file(module_name, module_file)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module_name)


def _package_root(module_file: Path, module_name: str) -> Path | None:
    """Return the folder from which ``module_name`` imports as ``module_file``, if any."""
    parts = module_name.split(".")
    path = module_file.with_suffix("")
    if path.name == "__init__":
        path = path.parent
    for part in reversed(parts):
        if path.name != part:
            return None
        path = path.parent
    return path
