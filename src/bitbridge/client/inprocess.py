"""A bridge with no server: its server half runs in this process (``in_process=True``).

For a build of the library of this process's own bitness (a 64-bit build of the same
library, say), or for tests on a machine without a 32-bit interpreter. The calls keep
the bridge's semantics wherever no second process is needed for them:

- arguments are copied as they would travel to a server (``payload.dumps_call``, then
  ``payload.loads``): a list the method changes stays as it was for the caller. Numeric
  arrays arrive as ctypes arrays over shared memory, and what the method writes into
  them is copied back into the caller's array when the call returns, as with a server.
  Callables arrive as themselves.
- with ``copy=True`` the result is a deep copy made by the same payload functions, and a
  result that cannot be copied raises ``CopyError``; without it the method's object itself
  comes back (where a server would hand out a netref to it).
- an exception raised by a method reaches the caller as it is, with its own type.
- a call is never timed out (there is no process to kill: the call runs to its end), and
  a crash inside the library ends this process.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import platform
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bitbridge import callbacks, errors
from bitbridge.bridge import ORIGINAL, ServerInfo
from bitbridge.client.library_path import folders_of, library_of
from bitbridge.client.logs import SESSION as log
from bitbridge.native import load_native
from bitbridge.options import BridgeOptions
from bitbridge.remote import RemoteSpec
from bitbridge.wire import payload, shm

if TYPE_CHECKING:
    from bitbridge.client.session import Call

#: What ``server_info(bridge).interpreter`` says of an in-process bridge.
IN_PROCESS = "in process"


class InProcessSession:
    """The server half of one bridge, built and called in this process."""

    def __init__(
        self, cls: type, options: BridgeOptions, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.cls, self.options, self.args, self.kwargs = cls, options, args, kwargs
        self.class_name = cls.__qualname__
        self.closed = False
        self._pool = shm.Pool() if shm.AVAILABLE else None
        self._results = payload.ResultBlocks(in_order=not options.concurrent)
        self._call_lock: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if options.concurrent else threading.RLock()
        )
        started = time.perf_counter()
        user_class: Any = cls
        half: Any = server_half(cls)
        self.instance = half.__new__(half)
        self.instance.lib = self._load_library(user_class)
        arguments, refs, transfer = payload.dumps_call(args, kwargs, pool=self._pool)
        try:
            copied_args, copied_kwargs = payload.loads(arguments, refs)
            self.instance.__init__(*copied_args, **copied_kwargs)
        finally:
            transfer.finish()
        self.info = ServerInfo(
            os.getpid(),
            struct.calcsize("P"),
            platform.python_version(),
            sys.executable,
            IN_PROCESS,
        )
        log.debug(
            "%s started in process: ready in %.1f ms",
            self.class_name,
            (time.perf_counter() - started) * 1000,
        )

    def _load_library(self, cls: Any) -> Any:
        library = library_of(cls, self.options)
        if library is None or cls.libtype is None:
            return None
        if cls.libtype == "net":
            raise errors.LibraryLoadError(
                f"{self.class_name} loads a .NET assembly, which needs the 32-bit Mono of a "
                "server: in_process=True hosts native libraries only."
            )
        near = module_folder(cls)
        folders = folders_of(cls, self.options, near)
        try:
            return load_native(library, cls.libtype, near, folders, (), self.class_name)
        except errors.WrongArchitecture as exc:
            bits = struct.calcsize("P") * 8
            raise errors.WrongArchitecture(
                f"{exc.args[0]}\nIn process the library must be a {bits}-bit build: name it "
                f"with {self.class_name}.configure(in_process=True, library=...)."
            ) from None

    def restarted(self) -> InProcessSession:
        """Return a new session with the same class, options and arguments."""
        log.info("restarting the in-process %s bridge", self.class_name)
        return InProcessSession(self.cls, self.options, self.args, self.kwargs)

    def call(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], spec: RemoteSpec
    ) -> Any:
        """Run the remote method ``name`` of the server half, with copied arguments."""
        with self._call_lock:
            self._check_open()
            arguments, refs, transfer = payload.dumps_call(args, kwargs, pool=self._pool)
            try:
                copied_args, copied_kwargs = payload.loads(arguments, refs)
                with callbacks.collecting():
                    result = getattr(self.instance, name)(*copied_args, **copied_kwargs)
                return self._copied(name, result) if spec.copy else result
            finally:
                transfer.finish()

    def map(
        self, name: str, spec: RemoteSpec, calls: Iterable[Call], timeout: float | None
    ) -> Iterator[Any]:
        """Run the remote method ``name`` for each of ``calls``, one by one as the results
        are asked for (nothing to pipeline; ``timeout`` is not enforced, as for calls)."""
        self._check_open()
        return (self.call(name, args, kwargs, spec) for args, kwargs in calls)

    def _copied(self, name: str, result: Any) -> Any:
        try:
            copied = payload.dumps_result(result, self._results)
        except Exception as exc:
            raise errors.CopyError(errors.uncopyable(self.class_name, name, result, exc)) from None
        return payload.loads_result(copied)

    def getattr(self, name: str) -> Any:
        """Return an attribute of the server half."""
        self._check_open()
        return getattr(self.instance, name)

    def close(self) -> None:
        """Drop the server half; the library stays loaded (ctypes never unloads one)."""
        if self.closed:
            return
        self.closed = True
        if self._pool is not None:
            self._pool.close()
        log.debug("%s closed (in process)", self.class_name)

    def _check_open(self) -> None:
        if self.closed:
            raise errors.BridgeClosed(
                f"this {self.class_name} bridge is closed; open a new one or call restart()"
            )


def server_half(cls: type) -> type:
    """Return a subclass of ``cls`` whose remote methods are the methods as written, as
    the server imports the class, in place of the client's proxies."""
    originals: dict[str, Any] = {}
    seen: set[str] = set()
    for klass in cls.__mro__:
        for attr, value in vars(klass).items():
            if attr in seen:
                continue
            seen.add(attr)
            if inspect.isfunction(value) and ORIGINAL in value.__dict__:
                originals[attr] = value.__dict__[ORIGINAL]
    namespace = {
        **originals,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    # type.__new__ itself: the metaclass's __new__ would turn the methods into proxies.
    half: type = type.__new__(type(cls), cls.__name__, (cls,), namespace)
    return half


def module_folder(cls: type) -> Path:
    """The folder of the module that defines ``cls`` (where its library is looked for);
    the working folder for a module without a file (a notebook, ``python -c``)."""
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return Path(os.path.abspath(path)).parent if path else Path.cwd()
