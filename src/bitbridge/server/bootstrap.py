"""Entry script of the server, run by the hosting interpreter as a file.

It uses the standard library only until it has made bitbridge and rpyc importable from
the exact folders the client named (never the client's whole site-packages), then hands
over to :mod:`bitbridge.server.host`. The client writes one JSON line of settings on stdin and
keeps stdin open: end of file there means the client is gone, and the server exits even
when it is stuck inside a library call.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType


class PackageFinder(importlib.abc.MetaPathFinder):
    """Import the named top-level packages or modules from the given locations."""

    def __init__(self, locations: dict[str, str]) -> None:
        self.locations = locations

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        location = self.locations.get(fullname)
        if location is None:
            return None
        if os.path.isdir(location):
            init = os.path.join(location, "__init__.py")
            return importlib.util.spec_from_file_location(
                fullname, init, submodule_search_locations=[location]
            )
        return importlib.util.spec_from_file_location(fullname, location)


def watch_lifeline(fd: int) -> None:
    """Exit as soon as the client closes stdin or dies."""
    # os.read, not sys.stdin: a thread blocked in a buffered read aborts finalization.
    while os.read(fd, 4096):
        pass
    os._exit(0)


def _read_line(fd: int) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            raise SystemExit("bitbridge bootstrap: stdin closed before the settings arrived")
        line += chunk
    return line


def main() -> None:
    settings = json.loads(_read_line(0))
    if settings.get("pycache_prefix"):
        # Bytecode of another Python (a Windows one under Wine, say) goes there, not
        # next to the client's sources.
        sys.pycache_prefix = settings["pycache_prefix"]
    sys.meta_path.insert(0, PackageFinder(settings["packages"]))
    threading.Thread(
        target=watch_lifeline, args=(0,), name="bitbridge-lifeline", daemon=True
    ).start()
    from bitbridge import _role

    _role.IN_SERVER = True  # before the user's module defines its bridge class
    from bitbridge.server.host import serve

    serve(settings)


if __name__ == "__main__":
    main()
