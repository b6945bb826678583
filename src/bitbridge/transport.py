"""The rpyc classic connection over a socket that only the two processes hold.

The client makes a connected socket pair and hands one end to the server process, so
there is no listener at all for another process to reach. Compression is off (it costs
far more than it saves between two local processes) and TCP sockets get TCP_NODELAY.
"""

from __future__ import annotations

import socket
from typing import Any

from rpyc.core.channel import Channel
from rpyc.core.protocol import Connection
from rpyc.core.service import ClassicService
from rpyc.core.stream import SocketStream

CONFIG: dict[str, Any] = {
    "sync_request_timeout": None,
    "allow_pickle": True,
    "propagate_KeyboardInterrupt_locally": True,
}


def connect(
    sock: socket.socket, timeout: float | None = None, bind_threads: bool = False
) -> Connection:
    """Run the classic service over ``sock``; ``timeout`` bounds the handshake only.

    ``bind_threads`` routes each reply to the thread that waits for it, which several
    server threads serving one connection need (rpyc's thread binding).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(SocketStream(sock), compress=False)
    conn: Connection = ClassicService._connect(
        channel, {**CONFIG, "sync_request_timeout": timeout, "bind_threads": bind_threads}
    )
    conn._config["sync_request_timeout"] = None
    return conn
