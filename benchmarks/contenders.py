"""The ways of calling the 32-bit C++ library that the benchmark compares: four on Linux
libraries, and bitbridge on the library's Windows DLL under Wine, over each transport.

Each contender starts its own 32-bit server in ``start`` (which also makes the first
``add`` call), answers the measured calls, and stops its servers in ``close``. A
measure a contender cannot take part in raises :class:`NotApplicable`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CPP_LIBRARY = ROOT / "examples" / "cpp" / "cpp_lib32.so"
EXAMPLE_FOLDERS = (ROOT / "examples" / "cpp", ROOT / "examples" / "echo")

# Must match floor_server.py: op, a, b, n, scale.
HEADER = struct.Struct("<c3xiiQd")
INT = struct.Struct("<i")
DOUBLE = struct.Struct("<d")


class NotApplicable(Exception):
    """This contender does not take part in a measure; the message says why."""


class Contender(ABC):
    """One way of calling the library, with its servers."""

    key: str
    name: str
    thread_safe = True
    passed: str = ""  # what scalar_multiply was given, once multiply_argument ran

    @abstractmethod
    def start(self) -> None:
        """Start the server and make the first ``add`` call."""

    @abstractmethod
    def add(self, a: int, b: int) -> int:
        """Call the library's ``add``."""

    def open_echo(self) -> None:  # noqa: B027 (optional: most contenders echo on their server)
        """Start what ``echo`` needs, when it is not the server ``start`` started."""

    def echo(self, data: bytes) -> bytes | bytearray:
        """Send ``data`` to the server and return what comes back."""
        raise NotApplicable("no echo")

    def multiply_argument(self, xs: np.ndarray) -> Any:
        """Return ``xs`` in the form this contender's users pass to ``scalar_multiply``."""
        raise NotApplicable("no array path")

    def scalar_multiply(self, a: float, xin: Any) -> Sequence[float] | np.ndarray:
        """Call the library's ``scalar_multiply`` and return the products."""
        raise NotApplicable("no array path")

    @abstractmethod
    def close(self) -> None:
        """Stop every server this contender started; safe to call after a failed start."""

    def kill(self) -> None:  # noqa: B027 (optional: bitbridge's servers need no help)
        """Stop the servers of a contender that hangs, without talking to them."""


def _recv_exact(sock: socket.socket, view: memoryview) -> None:
    while view:
        got = sock.recv_into(view)
        if not got:
            raise EOFError("the server closed the connection")
        view = view[got:]


def _spawn(command: Sequence[str], server_end: socket.socket) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(command),
            pass_fds=(server_end.fileno(),),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    finally:
        server_end.close()


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()


def _terminate(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()


def _server_error(proc: subprocess.Popen[bytes], exc: BaseException) -> RuntimeError:
    """Describe a server that failed, with the tail of its stderr."""
    try:
        _, err = proc.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError):
        err = b""
    tail = err.decode(errors="replace").strip().splitlines()[-3:]
    return RuntimeError(f"{exc} (server exit {proc.poll()}: {' | '.join(tail)})")


class Floor(Contender):
    """A raw Unix-socket ping-pong with a 32-bit Python calling ctypes: the floor."""

    key = "floor"
    name = "raw-socket floor"
    thread_safe = False

    def __init__(self, python32: Sequence[str]) -> None:
        self.python32 = tuple(python32)
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.compute_times: list[float] = []  # scalar_multiply's C call, timed in the server

    def start(self) -> None:
        self.sock, server_end = socket.socketpair()
        script = HERE / "floor_server.py"
        fd = str(server_end.fileno())
        self.proc = _spawn([*self.python32, "-I", str(script), fd, str(CPP_LIBRARY)], server_end)
        try:
            self.add(1, 2)
        except (OSError, EOFError) as exc:
            raise _server_error(self.proc, exc) from exc

    def add(self, a: int, b: int) -> int:
        assert self.sock is not None
        self.sock.sendall(HEADER.pack(b"A", a, b, 0, 0.0))
        reply = self.sock.recv(4)
        if len(reply) < 4:
            if not reply:
                raise EOFError("the server closed the connection")
            rest = bytearray(4 - len(reply))
            _recv_exact(self.sock, memoryview(rest))
            reply += rest
        return int(INT.unpack(reply)[0])

    def echo(self, data: bytes) -> bytearray:
        assert self.sock is not None
        self.sock.sendall(HEADER.pack(b"E", 0, 0, len(data), 0.0))
        self.sock.sendall(data)
        back = bytearray(len(data))
        _recv_exact(self.sock, memoryview(back))
        return back

    def multiply_argument(self, xs: np.ndarray) -> np.ndarray:
        self.passed = "numpy array, its raw bytes sent as they are"
        return xs

    def scalar_multiply(self, a: float, xin: np.ndarray) -> np.ndarray:
        assert self.sock is not None
        self.sock.sendall(HEADER.pack(b"M", 0, 0, len(xin), a))
        self.sock.sendall(xin.data.cast("B"))
        elapsed = bytearray(DOUBLE.size)
        _recv_exact(self.sock, memoryview(elapsed))
        self.compute_times.append(DOUBLE.unpack(elapsed)[0])
        xout = np.empty_like(xin)
        _recv_exact(self.sock, xout.data.cast("B"))
        return xout

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        _stop(self.proc)

    def kill(self) -> None:
        _terminate(self.proc)


class PlainRpyc(Contender):
    """A plain rpyc classic connection to a 32-bit Python, over a Unix socket pair."""

    key = "rpyc"
    name = "plain rpyc"

    def __init__(self, python32: Sequence[str]) -> None:
        self.python32 = tuple(python32)
        self.conn: Any = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.links: str | None = None
        self._add: Any = None
        self._echo: Any = None

    def start(self) -> None:
        import rpyc
        from rpyc.core.stream import SocketStream

        # The server sees the client's rpyc and plumbum, each by its own folder.
        self.links = tempfile.mkdtemp(prefix="bitbridge-bench-rpyc-")
        for package in ("rpyc", "plumbum"):
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise ModuleNotFoundError(f"{package} is not installed as a package folder")
            folder = next(iter(spec.submodule_search_locations))
            os.symlink(folder, os.path.join(self.links, package))
        sock, server_end = socket.socketpair()
        script = HERE / "rpyc_server.py"
        fd = str(server_end.fileno())
        self.proc = _spawn([*self.python32, "-I", str(script), fd, self.links], server_end)
        try:
            self.conn = rpyc.classic.connect_stream(SocketStream(sock))
            self._add = self.conn.modules.ctypes.CDLL(str(CPP_LIBRARY)).add
            self.add(1, 2)
        except (OSError, EOFError) as exc:
            raise _server_error(self.proc, exc) from exc

    def add(self, a: int, b: int) -> int:
        return int(self._add(a, b))

    def open_echo(self) -> None:
        self._echo = self.conn.eval("lambda data: data")

    def echo(self, data: bytes) -> bytes:
        return bytes(self._echo(data))

    def multiply_argument(self, xs: np.ndarray) -> Any:
        raise NotApplicable("plain rpyc has no array path (netref lists, element by element)")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        _stop(self.proc)
        if self.links is not None:
            shutil.rmtree(self.links, ignore_errors=True)

    def kill(self) -> None:
        _terminate(self.proc)


class MslLoadlib(Contender):
    """msl-loadlib 1.1.0's own examples: ``Cpp64`` and ``Echo64`` (HTTP plus pickle files)."""

    key = "msl"
    name = "msl-loadlib"
    thread_safe = False

    def __init__(self) -> None:
        self.cpp: Any = None
        self.echo64: Any = None

    def start(self) -> None:
        from msl.examples.loadlib import Cpp64

        self.cpp = Cpp64()
        self.add(1, 2)

    def add(self, a: int, b: int) -> int:
        return int(self.cpp.add(a, b))

    def open_echo(self) -> None:
        from msl.examples.loadlib import Echo64

        self.echo64 = Echo64()

    def echo(self, data: bytes) -> bytes:
        args, _ = self.echo64.send_data(data)
        return bytes(args[0])

    def multiply_argument(self, xs: np.ndarray) -> list[float]:
        self.passed = "list of float (its server has no numpy)"
        return list(xs.tolist())

    def scalar_multiply(self, a: float, xin: list[float]) -> list[float]:
        return list(self.cpp.scalar_multiply(a, xin))

    def close(self) -> None:
        for client in (self.cpp, self.echo64):
            if client is not None:
                for stream in client.shutdown_server32():
                    stream.close()
        self.cpp = self.echo64 = None

    def kill(self) -> None:
        # Its server has no lifeline: it would outlive this process. SIGTERM, not SIGKILL,
        # so that the frozen server's bootloader passes it on to the Python it unpacked.
        for client in (self.cpp, self.echo64):
            if client is not None:
                _terminate(client._client._proc)
                for path in (client._client._pickle_path, client._client._meta_path):
                    with contextlib.suppress(OSError):
                        os.remove(path)


class Bitbridge(Contender):
    """bitbridge's own examples: ``examples/cpp/cpp.py``'s Cpp and ``examples/echo``'s Echo."""

    key = "bitbridge"
    name = "bitbridge"

    def __init__(self) -> None:
        for folder in EXAMPLE_FOLDERS:
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        self.cpp: Any = None
        self.echo_bridge: Any = None

    def start(self) -> None:
        from cpp import Cpp  # type: ignore[import-not-found, unused-ignore]

        self.cpp = Cpp()
        self.add(1, 2)

    def add(self, a: int, b: int) -> int:
        return int(self.cpp.add(a, b))

    def open_echo(self) -> None:
        from echo import Echo  # type: ignore[import-not-found, unused-ignore]

        self.echo_bridge = Echo()

    def echo(self, data: bytes) -> bytes:
        args, _ = self.echo_bridge.send_data(data)
        return bytes(args[0])

    def multiply_argument(self, xs: np.ndarray) -> Any:
        """The numpy array itself if the bridge takes it, else a list (and say why)."""
        try:
            result = self.cpp.scalar_multiply(2.0, xs)
            np.testing.assert_allclose(np.asarray(result), 2.0 * xs)
        except Exception as exc:
            self.passed = f"list of float (a numpy array failed: {type(exc).__name__})"
            return list(xs.tolist())
        self.passed = "numpy array (float64)"
        return xs

    def scalar_multiply(self, a: float, xin: Any) -> Sequence[float]:
        return self.cpp.scalar_multiply(a, xin)  # type: ignore[no-any-return]

    def close(self) -> None:
        for bridge in (self.cpp, self.echo_bridge):
            if bridge is not None:
                bridge.close()
        self.cpp = self.echo_bridge = None


class BitbridgeWine(Bitbridge):
    """bitbridge from this Linux client to the C++ example's Windows DLL (``CppWindows``)
    and an ``Echo`` hosted by the Windows Python, their servers under Wine."""

    def __init__(self, transport: str) -> None:
        super().__init__()
        self.key = f"wine_{transport}"
        self.name = f"bitbridge, Windows DLL under Wine ({transport})"
        self.transport = transport

    def _under_wine(self, make: Any) -> Any:
        from bitbridge.client.wine import TRANSPORT_ENV_VAR

        before = os.environ.get(TRANSPORT_ENV_VAR)
        os.environ[TRANSPORT_ENV_VAR] = self.transport
        try:
            return make()
        finally:
            if before is None:
                del os.environ[TRANSPORT_ENV_VAR]
            else:
                os.environ[TRANSPORT_ENV_VAR] = before

    def start(self) -> None:
        from cpp import CppWindows  # type: ignore[import-not-found, unused-ignore]

        self.cpp = self._under_wine(CppWindows)
        self.add(1, 2)

    def open_echo(self) -> None:
        from echo import Echo  # type: ignore[import-not-found, unused-ignore]

        from bitbridge.client.wine import find_windows_python

        python = find_windows_python().command[-1]
        self.echo_bridge = self._under_wine(Echo.configure(python32=python))
