"""Mutual proof of a per-server secret over a fresh loopback TCP connection.

Used by a server under Wine when it cannot take over the client's socket (see
``server/wine.py``): it listens on 127.0.0.1 and serves the one connection that proves
the secret, which the client handed it over the server's stdin pipe (never on a command
line, never in the environment). The secret itself never crosses the socket: each side
proves that it holds it with an HMAC-SHA256 over both sides' fresh nonces::

    server -> client : MAGIC + server nonce                      (worthless to a stranger)
    client -> server : client nonce + HMAC(secret, "client" | server nonce | client nonce)
    server -> client : HMAC(secret, "server" | client nonce | server nonce)

The server drops a connection on a wrong proof, a short read or a timeout, and sends
nothing more. The client checks the server's proof too, so it never speaks rpyc to a
process that merely holds the port. The standard library only: the server runs it
before anything else is imported.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import time

#: The protocol's name and version, the first bytes a server sends.
MAGIC = b"bitbridge-handshake-1\n"
SECRET_BYTES = NONCE_BYTES = MAC_BYTES = 32


class HandshakeError(Exception):
    """The peer did not prove the secret, or did not answer in time."""


def new_secret() -> bytes:
    """Return a fresh random secret for one server."""
    return os.urandom(SECRET_BYTES)


def server_half(sock: socket.socket, secret: bytes, timeout: float) -> None:
    """Run the server's half on an accepted connection; raise HandshakeError unless the
    client proves ``secret`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    server_nonce = os.urandom(NONCE_BYTES)
    _send(sock, MAGIC + server_nonce, deadline)
    reply = _receive(sock, NONCE_BYTES + MAC_BYTES, deadline)
    client_nonce, client_mac = reply[:NONCE_BYTES], reply[NONCE_BYTES:]
    if not hmac.compare_digest(client_mac, _mac(secret, b"client", server_nonce, client_nonce)):
        raise HandshakeError("the peer did not prove the secret")
    _send(sock, _mac(secret, b"server", client_nonce, server_nonce), deadline)
    sock.settimeout(None)


def client_half(sock: socket.socket, secret: bytes, timeout: float) -> None:
    """Run the client's half on a connected socket; raise HandshakeError unless the
    server proves ``secret`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    hello = _receive(sock, len(MAGIC) + NONCE_BYTES, deadline)
    if not hello.startswith(MAGIC):
        raise HandshakeError("the peer is not a bitbridge server")
    server_nonce = hello[len(MAGIC) :]
    client_nonce = os.urandom(NONCE_BYTES)
    _send(sock, client_nonce + _mac(secret, b"client", server_nonce, client_nonce), deadline)
    server_mac = _receive(sock, MAC_BYTES, deadline)
    if not hmac.compare_digest(server_mac, _mac(secret, b"server", client_nonce, server_nonce)):
        raise HandshakeError("the server did not prove the secret")
    sock.settimeout(None)


def _mac(secret: bytes, role: bytes, first: bytes, second: bytes) -> bytes:
    return hmac.new(secret, role + first + second, hashlib.sha256).digest()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise HandshakeError("the handshake timed out")
    return left


def _send(sock: socket.socket, data: bytes, deadline: float) -> None:
    sock.settimeout(_remaining(deadline))
    try:
        sock.sendall(data)
    except OSError as exc:
        raise HandshakeError(f"sending failed: {exc}") from None


def _receive(sock: socket.socket, count: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < count:
        sock.settimeout(_remaining(deadline))
        try:
            chunk = sock.recv(count - len(data))
        except TimeoutError:
            raise HandshakeError("the handshake timed out") from None
        except OSError as exc:
            raise HandshakeError(f"receiving failed: {exc}") from None
        if not chunk:
            raise HandshakeError("the connection closed during the handshake")
        data += chunk
    return bytes(data)
