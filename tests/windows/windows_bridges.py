"""Bridge classes for the tests that run on Windows (the server imports this file, so it
imports only the standard library and bitbridge)."""

from __future__ import annotations

import ctypes
import socket

from bitbridge import Bridge, remote32


class GUID(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_ubyte * 16)]


class Ole32(Bridge):
    """ole32.dll through oledll: a failing HRESULT raises OSError."""

    library = "ole32"
    libtype = "oledll"

    @remote32
    def clsid_from_string(self, text: str) -> bytes:
        guid = GUID()
        self.lib.CLSIDFromString(ctypes.c_wchar_p(text), ctypes.byref(guid))
        return bytes(guid.bytes)


class Peer(Bridge):
    """Reports the socket that the server got from its client."""

    libtype = None

    @remote32
    def connection_ends(self) -> tuple[object, object]:
        """The address of the server's end of the connection and of its peer."""
        import sys

        serving = sys.modules["bitbridge.server.host"]._serving
        sock: socket.socket = serving.conn._channel.stream.sock
        return sock.getsockname(), sock.getpeername()
