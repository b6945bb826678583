"""The server half: serve the connection, import the user's class, run remote methods.

Imported only in the server process, by :mod:`bitbridge.server.bootstrap`.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import socket
import struct
import sys
import traceback
from pathlib import Path
from typing import Any

from bitbridge import _role
from bitbridge.errors import CopyError, ServerImportError
from bitbridge.modules import load_from_file
from bitbridge.server.library import load_library
from bitbridge.wire import payload, shm
from bitbridge.wire.transport import BridgeConnection, connect

#: Threads that serve one client when the bridge is configured ``concurrent=True``.
CONCURRENT_THREADS = 16


class _Serving:
    """This server process's one connection and the blocks of its copied results."""

    def __init__(
        self, conn: BridgeConnection, concurrent: bool, arena: shm.Arena | None = None
    ) -> None:
        self.conn = conn
        self.results = payload.ResultBlocks(in_order=not concurrent, arena=arena)


_serving: _Serving | None = None


def serve(settings: dict[str, Any]) -> None:
    """Serve the client over the inherited socket (or Wine's transport) until it
    disconnects."""
    if hasattr(signal, "SIGINT"):
        # Ctrl-C in a terminal reaches the whole process group; the client handles it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _serving
    sys.path[:0] = settings.get("sys_path", [])
    concurrent = bool(settings.get("concurrent"))
    arena = None
    if "wine" in settings:  # under Wine, started by a Linux client
        from bitbridge.server.wine import open_connection

        conn, arena = open_connection(settings["wine"], bind_threads=concurrent)
    else:
        conn = connect(_inherited_socket(settings), bind_threads=concurrent)
    _serving = _Serving(conn, concurrent, arena)
    try:
        if concurrent:
            conn.serve_threaded(CONCURRENT_THREADS)
        else:
            conn.serve_all()  # one request at a time: most vendor libraries need that
    finally:
        conn.close()


def _inherited_socket(settings: dict[str, Any]) -> socket.socket:
    if "socket_share" in settings:  # Windows: the client duplicated its socket for us
        return socket.fromshare(bytes.fromhex(settings["socket_share"]))  # type: ignore[attr-defined,no-any-return]
    return socket.socket(fileno=settings["fd"])


def info() -> tuple[int, int, str, str]:
    """Return the server's pid, pointer size in bytes, Python version and executable."""
    return os.getpid(), struct.calcsize("P"), sys.version.split()[0], sys.executable


def create(
    module_file: str, module_name: str, qualname: str, arguments: bytes, refs: tuple[Any, ...]
) -> Any:
    """Import the user's class, load its library and construct the server half, which
    then serves the connection's remote method calls."""
    cls = _import_class(module_file, module_name, qualname)
    instance = cls.__new__(cls)
    instance.lib = load_library(cls.library, cls.libtype, Path(module_file).parent)
    args, kwargs = payload.loads(arguments, refs)
    instance.__init__(*args, **kwargs)
    # One bridge instance per server process: its calls are served from now on.
    assert _serving is not None, "create() is called over the connection that serve() runs"
    _serving.conn.invoker = functools.partial(invoke, instance, _serving.results)
    return instance


def invoke(
    instance: Any, results: payload.ResultBlocks, arguments: bytes, refs: tuple[Any, ...]
) -> Any:
    """Run one remote method call packed by the client; with ``copy`` pickle the result."""
    name, copy, args, kwargs = payload.loads(arguments, refs)
    result = getattr(instance, name)(*args, **kwargs)
    return _copied(instance, name, result, results) if copy else result


def _copied(
    instance: Any, name: str, result: Any, results: payload.ResultBlocks
) -> tuple[bytes, tuple[Any, ...]]:
    try:
        return payload.dumps_result(result, results)
    except Exception as exc:
        raise CopyError(
            f"the result of {type(instance).__name__}.{name}() is a {type(result).__name__} "
            f"that cannot be copied to the client ({exc}). Return plain data (numbers, "
            "strings, lists, dicts, ctypes structures without pointers), or drop copy=True "
            "to get a reference instead."
        ) from None


def _import_class(module_file: str, module_name: str, qualname: str) -> Any:
    try:
        module = _import_module(module_file, module_name)
    except BaseException as exc:
        hint = ""
        missing = (exc.name or "") if isinstance(exc, ModuleNotFoundError) else ""
        package = missing.split(".")[0]
        if getattr(sys, "frozen", False) and package and package != module_name.split(".")[0]:
            # A package the frozen server lacks (not the user's module itself).
            hint = (
                f"\nThis frozen server lacks the package {package!r}. Freeze one that has it: "
                f"`make freeze FREEZE_IMPORTS={package}` (with FREEZE_PACKAGES=<pip name> if "
                f"the 32-bit Python lacks it too), or `python freeze/freeze32.py --imports "
                f"{package}` run by a 32-bit Python that has it; see docs/pages/frozen-server.md."
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


def _import_module(module_file: str, module_name: str) -> Any:
    folder = str(Path(module_file).parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    if module_name == "__main__":
        # A script: import it under another name so its main block does not run, and
        # alias it as __main__ so pickles that name __main__ resolve on both sides.
        module = load_from_file(_role.MAIN_ALIAS, module_file)
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
