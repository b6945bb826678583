"""Which half of a bridge this process is: the client (default) or the server."""

from __future__ import annotations

IN_SERVER = False


def in_server() -> bool:
    """Return True inside the server process, where remote methods run as written."""
    return IN_SERVER


#: The name under which the server imports a script that defines a bridge class in its
#: ``__main__``; the client registers its ``__main__`` under it too, so that pickles
#: naming either module resolve on both sides.
MAIN_ALIAS = "__bitbridge_main__"
