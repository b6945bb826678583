"""Start, watch and stop the server process (in the client)."""

from __future__ import annotations

import collections
import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from typing import IO, Any

from bitbridge import paths
from bitbridge.client.interpreter import Interpreter
from bitbridge.wire import shm

STDERR_TAIL_BYTES = 64 * 1024


class ServerProcess:
    """A running server process, the client's end of its socket and its stderr tail."""

    #: The shared memory arena handed to the server, if any (a server under Wine).
    arena: shm.Arena | None = None

    def __init__(
        self, interpreter: Interpreter, sys_path: list[str], concurrent: bool = False
    ) -> None:
        self.interpreter = interpreter
        self.socket, server_end = socket.socketpair()
        settings: dict[str, Any] = {
            "packages": {} if interpreter.frozen else paths.package_locations(),
            "sys_path": sys_path,
            "concurrent": concurrent,
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
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, name=f"bitbridge-stderr-{self.pid}", daemon=True
        )
        self._stderr_reader.start()
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(json.dumps(settings).encode() + b"\n")
            self.popen.stdin.flush()
        except OSError:
            pass  # the process died already; the handshake reports it with its stderr

    def _start(
        self, server_end: socket.socket, settings: dict[str, Any]
    ) -> subprocess.Popen[bytes]:
        """Spawn the server with ``server_end``, noting in ``settings`` how to find it."""
        command = list(self.interpreter.command)
        if not self.interpreter.frozen:
            command += ["-u", "-I", str(paths.BOOTSTRAP)]
        if sys.platform == "win32":
            popen = _spawn(command)
            settings["socket_share"] = server_end.share(popen.pid).hex()  # type: ignore[attr-defined]
            return popen
        settings["fd"] = server_end.fileno()
        return _spawn(command, pass_fds=(server_end.fileno(),))

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
            if self._echo:
                sys.stderr.write(chunk.decode(errors="replace"))
                sys.stderr.flush()

    def _keep(self, chunk: bytes) -> None:
        """Add what the server wrote to the tail kept for error messages."""
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size > STDERR_TAIL_BYTES and len(self._tail) > 1:
            self._tail_size -= len(self._tail.popleft())

    def stderr_tail(self) -> str:
        """Return the last bytes the server wrote on stderr, decoded."""
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
            if self.popen.stderr is not None:
                self.popen.stderr.close()

    def kill(self) -> None:
        """Kill the server at once and reap it."""
        if self.popen.poll() is None:
            self._kill_now()
        self.stop(grace=5.0)

    def _kill_now(self) -> None:
        self.popen.kill()


def _spawn(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    extra: dict[str, Any] = {"env": paths.server_environment()}
    if sys.platform == "win32":
        extra["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        extra["start_new_session"] = True  # Ctrl-C in a terminal goes to the client only
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, **{**extra, **kwargs}
    )
