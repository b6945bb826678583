"""Start, watch and stop the server process (in the client)."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Sequence
from typing import IO, Any

from bitbridge import paths
from bitbridge.client import library_path
from bitbridge.client.interpreter import Interpreter
from bitbridge.client.logs import LineLogger
from bitbridge.wire import shm

STDERR_TAIL_BYTES = 64 * 1024

#: Every server process this client started and has not stopped yet (the pytest plugin
#: checks it for servers a test left behind).
STARTED: set[ServerProcess] = set()


def running_servers() -> list[ServerProcess]:
    """Return the server processes this client started that still run."""
    return [server for server in list(STARTED) if server.popen.poll() is None]


class ServerProcess:
    """A running server process, the client's end of its socket and its stderr tail.

    ``library_dirs`` are the folders searched for the library's dependencies (see
    :mod:`bitbridge.client.library_path`); ``output`` is the ``server_output`` option:
    with "echo" the server's stdout is the client's and its stderr is copied to the
    client's once the server is ready, with "log" both become log records.
    """

    #: The shared memory arena handed to the server, if any (a server under Wine).
    arena: shm.Arena | None = None

    def __init__(
        self,
        interpreter: Interpreter,
        sys_path: list[str],
        concurrent: bool = False,
        library_dirs: Sequence[str] = (),
        output: str = "echo",
        owner: str = "a bridge",
    ) -> None:
        self.interpreter = interpreter
        self.owner = owner  # the bridge class it serves, for messages
        self.logged = output == "log"
        self.socket, server_end = socket.socketpair()
        # The events' channel (wire/events.py): the server writes, the client reads.
        self.events, self._events_end = socket.socketpair()
        settings: dict[str, Any] = {
            "packages": {} if interpreter.frozen else paths.package_locations(),
            "sys_path": sys_path,
            "client_path": client_folders(),
            "concurrent": concurrent,
            "library_dirs": list(library_dirs),
        }
        if sys.pycache_prefix:
            settings["pycache_prefix"] = sys.pycache_prefix
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self._echo = False
        try:
            self.popen = self._start(server_end, settings)
        except OSError as exc:
            self.socket.close()
            raise OSError(f"cannot run {interpreter.describe()}: {exc}") from exc
        finally:
            server_end.close()
            self._events_end.close()
        STARTED.add(self)
        self._stderr_log = LineLogger("stderr", self.pid) if self.logged else None
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, name=f"bitbridge-stderr-{self.pid}", daemon=True
        )
        self._stderr_reader.start()
        self._stdout_reader = self._stdout_thread()
        if self._stdout_reader is not None:
            self._stdout_reader.start()
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(json.dumps(settings).encode() + b"\n")
            self.popen.stdin.flush()
        except OSError:
            pass  # the process died already; the handshake reports it with its stderr

    def _start(
        self, server_end: socket.socket, settings: dict[str, Any]
    ) -> subprocess.Popen[bytes]:
        """Spawn the server with ``server_end``, noting in ``settings`` how to find it and
        where its library's dependencies are looked for."""
        command = list(self.interpreter.command)
        if not self.interpreter.frozen:
            command += ["-u", "-I", str(paths.BOOTSTRAP)]
        environment = paths.server_environment()
        command, settings["library_path"] = library_path.apply(
            command, environment, settings["library_dirs"]
        )
        if sys.platform == "win32":
            popen = _spawn(command, environment, self.logged)
            settings["socket_share"] = server_end.share(popen.pid).hex()  # type: ignore[attr-defined]
            settings["events_share"] = self._events_end.share(popen.pid).hex()  # type: ignore[attr-defined]
            return popen
        settings["fd"], settings["events_fd"] = server_end.fileno(), self._events_end.fileno()
        inherited = (server_end.fileno(), self._events_end.fileno())
        return _spawn(command, environment, self.logged, pass_fds=inherited)

    def _stdout_thread(self) -> threading.Thread | None:
        """The thread that reads the server's stdout, if it is a pipe (log mode)."""
        if not self.logged:
            return None  # the client's own stdout
        lines = LineLogger("stdout", self.pid)
        return threading.Thread(
            target=_log_lines,
            args=(self.popen.stdout, lines),
            name=f"bitbridge-stdout-{self.pid}",
            daemon=True,
        )

    def open_socket(self, timeout: float) -> socket.socket:
        """Return the client's end of the connection, once the server offers it."""
        return self.socket

    def disconnect(self) -> None:
        """End the connection from the client's side, before it is closed, for a server
        that would not see it end otherwise (a Linux server sees rpyc's close)."""

    def server_path(self, path: str) -> str:
        """Return the name under which the server sees the client's file ``path``."""
        return path

    @property
    def shared_memory(self) -> bool:
        """Whether buffers can go through shared memory to this server."""
        return shm.AVAILABLE

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.popen.pid

    def echo_stderr(self) -> None:
        """From now on, copy what the server writes on stderr to the client's stderr."""
        self._echo = True

    def _read_stderr(self) -> None:
        stream: IO[bytes] | None = self.popen.stderr
        assert stream is not None
        for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            self._keep(chunk)
            if self._stderr_log is not None:
                self._stderr_log.feed(chunk)
            elif self._echo:
                sys.stderr.write(chunk.decode(errors="replace"))
                sys.stderr.flush()
        if self._stderr_log is not None:
            self._stderr_log.flush()

    def _keep(self, chunk: bytes) -> None:
        """Add what the server wrote to the tail kept for error messages."""
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size > STDERR_TAIL_BYTES and len(self._tail) > 1:
            self._tail_size -= len(self._tail.popleft())

    def stderr_tail(self) -> str:
        """Return the last bytes the server wrote on stderr, decoded."""
        if self.popen.poll() is not None:
            self._stderr_reader.join(1.0)  # an exited server: read its stderr to the end
        return b"".join(self._tail).decode(errors="replace")

    def exit_status(self, wait: float = 0.0) -> str | None:
        """Describe how the process ended ("exit code 1", "signal SIGSEGV"), or None."""
        try:
            code = self.popen.wait(wait) if wait else self.popen.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is None:
            return None
        if code < 0:
            try:
                return f"signal {signal.Signals(-code).name}"
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"

    def stop(self, grace: float = 2.0) -> None:
        """Let the server exit after its connection closed; kill it if it does not."""
        self.socket.close()
        try:
            # The stderr reader ends when the server exits (its stderr closes): waiting
            # for the thread, not polling the process, returns the moment it is gone.
            self._stderr_reader.join(grace)
            if self._stderr_reader.is_alive() and self.popen.poll() is None:
                self._kill_now()
            self.popen.wait()
        finally:
            if self.popen.stdin is not None:
                with contextlib.suppress(OSError):
                    self.popen.stdin.close()
            self._stderr_reader.join(1.0)
            if self._stdout_reader is not None:
                self._stdout_reader.join(1.0)
            for stream in (self.popen.stderr, self.popen.stdout):
                if stream is not None:
                    stream.close()
            if self.popen.returncode is not None:  # reaped (not when the wait was cut short)
                STARTED.discard(self)

    def kill(self) -> None:
        """Kill the server at once and reap it."""
        if self.popen.poll() is None:
            self._kill_now()
        self.stop(grace=5.0)

    def _kill_now(self) -> None:
        self.popen.kill()


def client_folders() -> list[str]:
    """Return the folders of this process's ``sys.path`` that are not its standard library:
    where the server looks, last, for pure-Python modules it lacks
    (``server/client_packages.py``)."""
    stdlib = {
        os.path.normcase(os.path.realpath(sysconfig.get_path(name)))
        for name in ("stdlib", "platstdlib")
    }
    folders: list[str] = []
    for entry in sys.path:
        folder = os.path.realpath(entry or os.curdir)
        key = os.path.normcase(folder)
        in_stdlib = key in stdlib or (
            os.path.dirname(key) in stdlib  # lib-dynload, not site-packages
            and os.path.basename(key) not in ("site-packages", "dist-packages")
        )
        if os.path.isdir(folder) and not in_stdlib and folder not in folders:
            folders.append(folder)
    return folders


def _log_lines(stream: IO[bytes], lines: LineLogger) -> None:
    """Log each line of ``stream`` until it ends (the server's stdout, in log mode)."""
    for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
        lines.feed(chunk)
    lines.flush()


def _spawn(
    command: list[str], environment: dict[str, str], logged: bool, **kwargs: Any
) -> subprocess.Popen[bytes]:
    extra: dict[str, Any] = {}
    if sys.platform == "win32":
        extra["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        extra["start_new_session"] = True  # Ctrl-C in a terminal goes to the client only
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE if logged else None,  # else the client's own stdout
        stderr=subprocess.PIPE,
        env=environment,
        **extra,
        **kwargs,
    )
