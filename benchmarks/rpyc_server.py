"""A plain rpyc classic server, run by the 32-bit interpreter over an inherited socket.

Usage: ``python32 -I rpyc_server.py FD PACKAGES``. FD is the inherited end of a Unix
socket pair; PACKAGES is a folder holding links to the client's rpyc and plumbum
folders (nothing else of the client's site-packages). It serves until the client closes.
"""

from __future__ import annotations

import socket
import sys


def main() -> None:
    sys.path.insert(0, sys.argv[2])
    from rpyc.core.stream import SocketStream
    from rpyc.utils.classic import connect_stream

    conn = connect_stream(SocketStream(socket.socket(fileno=int(sys.argv[1]))))
    try:
        conn.serve_all()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
