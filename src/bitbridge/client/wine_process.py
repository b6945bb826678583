"""A server in a 32-bit Windows Python under Wine, started by a Linux client.

The server gets what a Linux server gets (one JSON line of settings on stdin, which stays
open as its lifeline, and the client's socket pair end as an inherited file
descriptor), with every path given through Wine's ``Z:`` drive, and a per-server secret.
Its first line on stdout says which transport it took (see ``server/wine.py``): the
inherited socket, or a loopback TCP listener whose one connection must prove the secret;
and whether it mapped the shared memory arena (``wire/shm.py``), an inherited memfd.
Everything else it writes on stdout is copied to the client's stdout.

All three of its standard streams are pipes: a Windows Python under Wine dies at start
when any of them is a regular file.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from typing import IO, Any

from bitbridge import paths
from bitbridge.client import wine
from bitbridge.client.interpreter import Interpreter
from bitbridge.client.logs import LineLogger
from bitbridge.client.process import ServerProcess
from bitbridge.errors import StartError
from bitbridge.wire import handshake, shm


class WineServerProcess(ServerProcess):
    """A server process under Wine; see the module's documentation."""

    def __init__(
        self, interpreter: Interpreter, sys_path: list[str], *args: Any, **kwargs: Any
    ) -> None:
        """As ``ServerProcess``; ``sys_path`` is given as the client sees it."""
        self.transport = wine.transport()
        self._secret = handshake.new_secret()
        self._report: bytes | None = None
        self._reported = threading.Event()
        wine.warm_up()
        self.arena = shm.Arena.create()
        try:
            super().__init__(interpreter, [wine.winpath(p) for p in sys_path], *args, **kwargs)
        except BaseException:
            self.arena.close()
            raise

    def _start(
        self, server_end: socket.socket, settings: dict[str, Any]
    ) -> subprocess.Popen[bytes]:
        settings["packages"] = {name: wine.winpath(p) for name, p in settings["packages"].items()}
        for folders in ("client_path", "library_dirs"):
            settings[folders] = [wine.winpath(folder) for folder in settings[folders]]
        settings["library_path"] = settings["library_dirs"]  # searched with PATH's DLL rules
        settings["pycache_prefix"] = wine.winpath(paths.wine_folder() / "pycache")
        assert self.arena is not None
        settings["wine"] = {
            "transport": self.transport,
            "secret": self._secret.hex(),
            "arena": {"fd": self.arena.fd, "size": self.arena.size, "id": self.arena.ident},
        }
        pass_fds = [self.arena.fd]
        if self.transport != "tcp":
            settings["wine"]["fd"] = server_end.fileno()
            settings["wine"]["events_fd"] = self._events_end.fileno()
            pass_fds += [server_end.fileno(), self._events_end.fileno()]
        command = [*self.interpreter.command, "-u", "-I", wine.winpath(paths.BOOTSTRAP)]
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=wine.environment(),
            pass_fds=tuple(pass_fds),
            start_new_session=True,  # one group to kill; Ctrl-C goes to the client only
        )

    def _stdout_thread(self) -> threading.Thread:
        # Always a pipe: the transport report comes first.
        return threading.Thread(
            target=self._read_stdout, name=f"bitbridge-stdout-{self.pid}", daemon=True
        )

    def _read_stdout(self) -> None:
        stream: IO[bytes] | None = self.popen.stdout
        assert stream is not None
        try:
            self._report = stream.readline()
        finally:
            self._reported.set()
        lines = LineLogger("stdout", self.pid) if self.logged else None
        for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            self._keep(chunk)  # a crash dump of winedbg comes this way
            if lines is not None:
                lines.feed(chunk)
            else:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
        if lines is not None:
            lines.flush()

    def transport_report(self, timeout: float) -> dict[str, Any]:
        """Wait for the server to say which transport it took: ``{"transport": "fd"}``,
        or ``{"transport": "tcp", "port": ...}``."""
        if not self._reported.wait(timeout):
            raise StartError(f"the server under Wine did not start within {timeout} s")
        if not self._report:
            raise ConnectionError("the server under Wine exited before it was ready")
        try:
            report: dict[str, Any] = json.loads(self._report)
        except ValueError:
            raise StartError(
                f"the server under Wine said {self._report!r} instead of its transport"
            ) from None
        return report

    def open_socket(self, timeout: float) -> socket.socket:
        """Wait for the server's transport; connect and prove the secret if it is TCP."""
        report = self.transport_report(timeout)
        if not report.get("arena") and self.arena is not None:
            self.arena.close()  # this Wine cannot map it: arrays travel as copies
            self.arena = None
        if report.get("transport") == "fd":
            return self.socket
        self.socket.close()
        self.socket = socket.create_connection(("127.0.0.1", int(report["port"])), timeout)
        try:
            handshake.client_half(self.socket, self._secret, timeout)
        except handshake.HandshakeError as exc:
            raise StartError(f"the server under Wine failed the handshake: {exc}") from None
        return self.socket

    def disconnect(self) -> None:
        # Windows code cannot shut down the inherited socket: a server thread blocked in
        # ReadFile would wait for ever once another thread had closed the connection
        # (concurrent=True). Its end of file comes from here instead.
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)

    def server_path(self, path: str) -> str:
        return wine.winpath(path)

    @property
    def shared_memory(self) -> bool:
        return self.arena is not None

    def _kill_now(self) -> None:
        wine.kill_group(self.popen.pid)
