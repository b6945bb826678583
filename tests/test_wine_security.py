"""A server under Wine is as closed to other local processes as a Linux one: over the
inherited socket it listens nowhere; over TCP it serves only the one connection that
proves the secret handed over its stdin, and a stranger who connects first gets nothing
but the greeting and cannot run code."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import rpyc
from test_security import listening, socket_inodes

from bitbridge.client.wine import find_windows_python
from bitbridge.client.wine_process import WineServerProcess
from bitbridge.server.wine import MAX_PENDING
from bitbridge.wire import handshake, transport


@pytest.fixture
def tcp_server(monkeypatch):
    """A server under Wine on the TCP path, before any client has connected."""
    monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", "tcp")
    process = WineServerProcess(find_windows_python(), [])
    yield process
    process.kill()


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, str]:
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return data, "still open"
    except OSError as exc:
        return data, f"error {exc}"
    return data, "closed"


def test_a_stranger_connecting_first_gets_nothing_and_cannot_run_code(tcp_server, tmp_path):
    port = tcp_server.transport_report(60)["port"]
    marker = tmp_path / "stranger-ran-code"

    silent = socket.create_connection(("127.0.0.1", port))  # first, and says nothing
    silent_result: list[tuple[bytes, str]] = []
    reader = threading.Thread(target=lambda: silent_result.append(read_until_closed(silent, 30)))
    reader.start()

    def speak_rpyc() -> None:  # rpyc straight away, as to a plain rpyc server
        conn = rpyc.classic.connect("127.0.0.1", port)
        conn.modules.os.system(f"echo pwned > {marker}")

    with pytest.raises((EOFError, ConnectionError, OSError)):
        speak_rpyc()

    wrong = socket.create_connection(("127.0.0.1", port))  # the protocol, another secret
    with pytest.raises(handshake.HandshakeError, match="closed during the handshake"):
        handshake.client_half(wrong, handshake.new_secret(), 10)  # dropped without a word

    conn = transport.connect(tcp_server.open_socket(30))  # the owner, the silent one still there
    assert conn.modules.struct.calcsize("P") == 4

    with pytest.raises(ConnectionRefusedError):  # one connection only: the listener is gone
        socket.create_connection(("127.0.0.1", port), timeout=5)
    reader.join(30)
    data, how = silent_result[0]
    assert data.startswith(handshake.MAGIC)
    assert len(data) == len(handshake.MAGIC) + handshake.NONCE_BYTES  # the greeting, no more
    assert how == "closed"
    assert not marker.exists()
    assert "dropped a connection: the peer did not prove the secret" in tcp_server.stderr_tail()
    conn.close()


def test_a_crowd_of_silent_strangers_does_not_lock_the_owner_out(tcp_server):
    port = tcp_server.transport_report(60)["port"]
    crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_PENDING + 4)]
    # The owner waits in the backlog until the first strangers' deadline passes.
    conn = transport.connect(tcp_server.open_socket(30))
    assert conn.modules.struct.calcsize("P") == 4
    for stranger in crowd:
        data, how = read_until_closed(stranger, 10)
        assert how != "still open"  # dropped (or reset, if still in the backlog)
        greeting = len(handshake.MAGIC) + handshake.NONCE_BYTES
        assert data == b"" or (data.startswith(handshake.MAGIC) and len(data) == greeting)
    conn.close()


def test_the_secret_is_on_no_command_line_and_in_no_environment(tcp_server):
    tcp_server.open_socket(60)
    secret = tcp_server._secret.hex().encode()
    for part in ("cmdline", "environ"):
        assert secret not in Path(f"/proc/{tcp_server.pid}/{part}").read_bytes()


def test_over_the_inherited_socket_the_server_listens_nowhere(monkeypatch):
    monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", "fd")
    process = WineServerProcess(find_windows_python(), [])
    try:
        conn = transport.connect(process.open_socket(60))
        assert conn.modules.struct.calcsize("P") == 4
        inodes = socket_inodes(process.pid)
        assert inodes, "the server should hold its inherited socket"
        assert listening(set(inodes)) == []
        conn.close()
    finally:
        process.kill()
