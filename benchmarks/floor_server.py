"""The raw-socket floor's server, run by the 32-bit interpreter: ctypes calls, no RPC.

Usage: ``python32 floor_server.py FD LIBRARY``. FD is the inherited end of a Unix socket
pair. Every request starts with a fixed header (see ``HEADER``); the reply carries only
the result. End of file on the socket ends the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import struct
import sys
import time

# op, a, b (ints for add), n (byte or element count), scale (double for scalar_multiply)
HEADER = struct.Struct("<c3xiiQd")


def recv_exact(sock: socket.socket, view: memoryview) -> None:
    """Fill ``view`` from ``sock``; raise EOFError when the peer has gone."""
    while view:
        got = sock.recv_into(view)
        if not got:
            raise EOFError
        view = view[got:]


def serve(sock: socket.socket, lib: ctypes.CDLL) -> None:
    """Answer requests until the client closes its end."""
    add = lib.add
    add.restype, add.argtypes = ctypes.c_int32, [ctypes.c_int32, ctypes.c_int32]
    multiply = lib.scalar_multiply
    multiply.restype = None
    multiply.argtypes = [
        ctypes.c_double,
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_int32,
        ctypes.POINTER(ctypes.c_double),
    ]
    pack_int, pack_double = struct.Struct("<i").pack, struct.Struct("<d").pack
    header = bytearray(HEADER.size)
    header_view = memoryview(header)
    while True:
        recv_exact(sock, header_view)
        op, a, b, n, scale = HEADER.unpack(header)
        if op == b"A":
            sock.sendall(pack_int(add(a, b)))
        elif op == b"E":
            data = bytearray(n)
            recv_exact(sock, memoryview(data))
            sock.sendall(data)
        elif op == b"M":
            xin = (ctypes.c_double * n)()
            recv_exact(sock, memoryview(xin).cast("B"))
            xout = (ctypes.c_double * n)()
            start = time.perf_counter()
            multiply(scale, xin, n, xout)
            elapsed = time.perf_counter() - start
            sock.sendall(pack_double(elapsed))
            sock.sendall(memoryview(xout).cast("B"))
        else:
            raise ValueError(f"unknown request {op!r}")


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    with contextlib.suppress(EOFError):  # the client closed its end: done
        serve(sock, ctypes.CDLL(sys.argv[2]))


if __name__ == "__main__":
    main()
