"""Which half of a bridge this process is: the client (default) or the server."""

from __future__ import annotations

IN_SERVER = False


def in_server() -> bool:
    """Return True inside the server process, where remote methods run as written."""
    return IN_SERVER
