"""The client's side of one bridge: start the server, forward calls, close it."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rpyc.core.async_ import AsyncResult, AsyncResultTimeout

from bitbridge import errors
from bitbridge.bridge import ServerInfo
from bitbridge.client import starting
from bitbridge.client.library_path import folders_of
from bitbridge.client.logs import SESSION as log
from bitbridge.client.pipeline import Pipeline
from bitbridge.client.source import defining_module
from bitbridge.options import BridgeOptions
from bitbridge.remote import RemoteSpec
from bitbridge.wire import events, payload, shm, transport

#: The server's module that builds the server half and serves its calls; named, never
#: imported, by the client.
HOST_MODULE = "bitbridge.server.host"

#: One call's arguments.
Call = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass
class Batch:
    """Calls sent in one request whose replies have not been read yet."""

    pending: AsyncResult
    transfer: payload.Transfer
    size: int


# What rpyc raises when a call goes wrong, turned into bitbridge's errors.
_CALL_FAILURES = (AsyncResultTimeout, KeyboardInterrupt, *starting.CONNECTION_LOST)


class Session:
    """One running server and the connection to the instance it hosts."""

    def __init__(
        self, cls: type, options: BridgeOptions, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.cls, self.options, self.args, self.kwargs = cls, options, args, kwargs
        self.closed = False
        # Why the bridge stopped working, raised again by every later call.
        self._failure: errors.BridgeError | None = None
        # The first exception an event handler raised, for the next call to raise.
        self._event_failure: BaseException | None = None
        self._events: events.EventReceiver | None = None
        self._close_lock = threading.Lock()
        # One call at a time from this client, unless the library is thread-safe: the
        # server serializes them anyway, and threads that wait here do not compete for
        # rpyc's receive loop. Re-entrant: a callback may call the bridge again.
        self._call_lock: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if options.concurrent else threading.RLock()
        )
        self.class_name = cls.__qualname__
        module_file, module_source = defining_module(cls)
        near = Path(module_file).parent
        interpreter, process_class = starting.server_for(cls, options, near)
        folders = folders_of(cls, options, near)
        started = time.perf_counter()
        try:
            self.process = process_class(
                interpreter,
                [],
                options.concurrent,
                folders,
                options.server_output,
                owner=self.class_name,
            )
        except OSError as exc:
            log.warning("%s server did not start: %s", self.class_name, exc)
            raise errors.StartError(str(exc)) from None
        self._pool: shm.Pool | None = None
        try:
            self.conn: transport.BridgeConnection = transport.connect(
                self.process.open_socket(options.start_timeout),
                options.start_timeout,
                bind_threads=options.concurrent,
                roles=transport.Roles(ctypes_by_value=True),
            )
            self._shared, self._arena = self.process.shared_memory, self.process.arena
            if self._shared and not options.concurrent:
                # Blocks for large arguments, kept between calls (one call at a time).
                self._pool = shm.Pool(self._arena)
            self.conn._config["sync_request_timeout"] = options.start_timeout
            starting.check_version(self.conn, interpreter)
            host = self.conn.modules[HOST_MODULE]
            arguments, refs, transfer = payload.dumps_call(
                args, kwargs, shared=self._shared, arena=self._arena
            )
            try:
                self.remote = host.create(
                    self.process.server_path(module_file),
                    cls.__module__,
                    cls.__qualname__,
                    arguments,
                    refs,
                    module_source,
                    None if options.library is None else os.fspath(options.library),
                )
            finally:
                transfer.finish()
            pid, pointer_size, python_version, executable = host.info()
            if interpreter.wine:
                pid = self.process.pid  # the Linux process, not Wine's Windows process id
            self.info = ServerInfo(
                pid, pointer_size, python_version, executable, interpreter.describe()
            )
            self.conn._config["sync_request_timeout"] = None
            # From now on a netref that finds the connection lost raises what a call would.
            self.conn._config[transport.CONNECTION_LOST] = self._connection_lost
            #: How a call's buffers reach this server: through which shared memory and
            #: how much of it (``payload.dumps_call``'s keywords).
            self.sharing: dict[str, Any] = {
                "limit": shm.MAX_32BIT_BYTES if pointer_size == 4 else None,
                "pool": self._pool,
                "shared": self._shared,
                "arena": self._arena,
            }
        except BaseException as exc:
            self.closed = True
            self.process.kill()
            self._release_memory()
            error = starting.start_error(exc, self.process, self.class_name, interpreter, options)
            log.warning("%s server did not start: %s", self.class_name, error)
            raise error from None
        self._events = events.EventReceiver(
            self.process.events,
            self._event_function,
            self._event_failed,
            f"bitbridge-events-{self.process.pid}",
        )
        self.process.echo_stderr()
        log.debug(
            "%s server started: pid %d, %s, ready in %.1f ms",
            self.class_name,
            self.process.pid,
            interpreter.describe(),
            (time.perf_counter() - started) * 1000,
        )

    def restarted(self) -> Session:
        """Return a new session with the same class, options and arguments."""
        log.info("restarting the %s server (pid %d)", self.class_name, self.process.pid)
        return Session(self.cls, self.options, self.args, self.kwargs)

    def call(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], spec: RemoteSpec
    ) -> Any:
        """Run the remote method ``name`` in the server and return its result."""
        if self._event_failure is not None:
            self._raise_event_failure()
        with self._call_lock:
            return self._call(name, args, kwargs, spec)

    def flush_events(self, timeout: float) -> None:
        """Return once every event the server sent before this call has been delivered
        (its handler has returned); CallTimeout when that takes over ``timeout`` s."""
        if self._events is None:
            return
        self._marks = getattr(self, "_marks", 0) + 1
        host = self.conn.modules[HOST_MODULE]
        if host.mark_events(self._marks) and not self._events.wait_for_mark(self._marks, timeout):
            raise errors.CallTimeout(
                f"the events of the {self.class_name} server were not all delivered "
                f"within {timeout} s (a handler that is still running?)"
            )
        self._raise_event_failure()

    def _event_function(self, function_id: Any) -> Any:
        """The client callable that an event calls, by the id the server holds it by."""
        if self.closed:
            return lambda *args, **kwargs: None  # fired before the close, read after it
        return self.conn._local_objects[function_id]

    def _event_failed(self, exc: BaseException) -> None:
        if self._event_failure is None:
            self._event_failure = exc

    def _raise_event_failure(self) -> None:
        """Raise, once, the exception an event handler raised since the last call."""
        failure, self._event_failure = self._event_failure, None
        if failure is not None:
            raise failure

    def _call(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], spec: RemoteSpec
    ) -> Any:
        self._check_open()
        arguments, refs, transfer = payload.dumps_call(
            args, kwargs, name, spec.copy, **self.sharing
        )
        timeout = self.call_timeout(spec)
        try:
            request = self.conn.invoke_request(transport.HANDLE_INVOKE)
            # Not sync_request: a lost connection is told here, naming the call.
            pending = self.conn.async_request(request, arguments, refs, timeout=timeout)
            result = pending.value
        except _CALL_FAILURES as exc:  # not a `with self._guard(...)`: on every call
            raise self._translated(exc, f"{self.class_name}.{name}()", timeout) from None
        finally:
            transfer.finish()
        return payload.loads_result(result) if spec.copy else result

    def map(
        self, name: str, spec: RemoteSpec, calls: Iterable[Call], timeout: float | None
    ) -> Pipeline:
        """Run the remote method ``name`` for each of ``calls``, pipelined."""
        self._check_open()
        return Pipeline(self, name, spec, calls, timeout)

    def call_timeout(self, spec: RemoteSpec) -> float | None:
        """The limit of one call of a method: its own, else the bridge's (None: none)."""
        return spec.timeout if spec.timeout is not None else self.options.timeout

    def send_batch(self, name: str, spec: RemoteSpec, calls: list[Call]) -> Batch:
        """Send calls of the remote method ``name`` in one request, without waiting."""
        self._raise_event_failure()
        with self._call_lock:
            self._check_open()
            arguments, refs, transfer = payload.dumps_calls(calls, name, spec.copy, **self.sharing)
            try:
                with self._guard(f"{self.class_name}.{name}()", None):
                    request = self.conn.invoke_request(transport.HANDLE_INVOKE_MANY)
                    pending = self.conn.async_request(request, arguments, refs)
            except BaseException:
                transfer.finish()
                raise
        return Batch(pending, transfer, len(calls))

    def receive_batch(
        self, batch: Batch, name: str, spec: RemoteSpec, timeout: float | None
    ) -> list[tuple[bool, Any]]:
        """Wait for a batch's replies; return (failed, result or exception) per call."""
        what = f"{batch.size} calls of {self.class_name}.{name}()"
        with self._call_lock:
            try:
                with self._guard(what, timeout):
                    if timeout is not None:
                        batch.pending.set_expiry(timeout)
                    packed, failures = batch.pending.value
            finally:
                batch.transfer.finish()
            results = payload.loads_result(packed) if spec.copy else list(packed)
            failed = {index: self.conn._unbox_exc(raw) for index, raw in failures}
        return [(index in failed, failed.get(index, r)) for index, r in enumerate(results)]

    @contextlib.contextmanager
    def _guard(self, what: str, timeout: float | None) -> Iterator[None]:
        """Turn what rpyc raises when a call goes wrong into bitbridge's errors."""
        try:
            yield
        except _CALL_FAILURES as exc:
            raise self._translated(exc, what, timeout) from None

    def _translated(self, exc: BaseException, what: str, timeout: float | None) -> BaseException:
        """The error to raise for what rpyc raised during ``what``: the bridge is failed
        (its server killed) on a timeout, a lost connection or Ctrl-C (raised as itself)."""
        if isinstance(exc, AsyncResultTimeout):
            return self._fail(
                errors.CallTimeout(
                    f"{what} did not return within {timeout} s; its server (pid "
                    f"{self.process.pid}) was killed. Call restart() to start a new one."
                )
            )
        if isinstance(exc, KeyboardInterrupt):
            self._fail(
                errors.BridgeClosed(
                    f"the bridge was closed when Ctrl-C interrupted {what}; the server's "
                    "state was unknown. Call restart() to start a new one."
                )
            )
            return exc
        return self._crashed(f"during {what}")

    def getattr(self, name: str) -> Any:
        """Return an attribute of the server half (a netref unless it is immutable)."""
        self._check_open()
        return getattr(self.remote, name)  # a lost connection: see _connection_lost

    def close(self) -> None:
        """Stop the server and reap it; safe to call more than once, from any thread."""
        with self._close_lock:
            if self.closed:
                return
            self.closed = True
        self.process.disconnect()
        with contextlib.suppress(Exception):
            self.conn.close()
        self.process.stop()
        if self._events is not None:
            self._events.join(2.0)  # what the server sent before it exited
        self._release_memory()
        log.debug(
            "%s server closed: pid %d, %s",
            self.class_name,
            self.process.pid,
            self.process.exit_status() or "still running",
        )

    def _release_memory(self) -> None:
        """Release the shared memory of this bridge (its server has gone)."""
        if self._pool is not None:
            self._pool.close()
        shm.MAPPINGS.forget(self.process.pid)
        if self.process.arena is not None:
            self.process.arena.close()
        self.process.events.close()

    def _check_open(self) -> None:
        if self._failure is not None:
            raise type(self._failure)(*self._failure.args)
        if self.closed:
            raise errors.BridgeClosed(
                f"this {self.class_name} bridge is closed; open a new one or call restart()"
            )

    def _connection_lost(self) -> errors.BridgeError:
        """The error of a request that found the connection lost: a netref's (a proxy to
        an object of the server), used after the bridge closed or its server died."""
        if self._failure is not None:
            return type(self._failure)(*self._failure.args)
        if self.closed:
            return errors.BridgeClosed(
                f"this netref points into the {self.class_name} server, which closed with "
                "its bridge (close() or restart()); keep a copy of what you use later "
                "(copy=True)"
            )
        return self._crashed("while one of its netrefs was used")

    def _fail(self, failure: errors.BridgeError) -> errors.BridgeError:
        """Kill the server, remember why, and return the error to raise."""
        log.warning("%s: %s", type(failure).__name__, failure)
        self._failure = failure
        self.process.kill()
        self.close()
        return failure

    def _crashed(self, when: str) -> errors.BridgeError:
        status = self.process.exit_status(wait=2.0) or "still running, connection lost"
        return self._fail(
            errors.ServerCrashed(
                f"the {self.class_name} server (pid {self.process.pid}) died {when}: "
                f"{status}. Call restart() to start a new one. Its stderr ends with:\n"
                f"{self.process.stderr_tail() or '(nothing)'}"
            )
        )
