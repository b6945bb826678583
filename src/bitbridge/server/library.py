"""Find and load the shared library of a bridge class (in the server process)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bitbridge.errors import LibraryLoadError, LibraryNotFound
from bitbridge.native import load_native
from bitbridge.paths import library_candidates


def load_library(
    library: str | os.PathLike[str] | None,
    libtype: str | None,
    near: Path,
    folders: Sequence[str] = (),
    searched: Sequence[str] = (),
    bridge: str = "YourBridge",
) -> Any:
    """Load ``library`` with the ctypes loader of ``libtype`` (or, for "net", as a .NET
    assembly); None when there is none. See :func:`bitbridge.native.load_native`."""
    if library is None or libtype is None:
        return None
    if libtype == "net":
        return _load_assembly(Path(library), near)
    return load_native(library, libtype, near, folders, searched, bridge)


def _load_assembly(library: Path, near: Path) -> Any:
    """Load a .NET assembly with bitbridge's 32-bit Mono (``libtype = "net"``).

    Looked up like other libraries, in ``near`` first with the ``.dll`` suffix optional;
    no platform search: assemblies are named by file.
    """
    from bitbridge.server import dotnet  # ctypes over Mono: imported only when needed

    tried = library_candidates(library, near, ".dll")
    for candidate in tried:
        if candidate.is_file():
            try:
                return dotnet.load_net(candidate)
            except OSError as exc:
                raise LibraryLoadError(
                    f"{candidate} exists but could not be loaded: {exc}"
                ) from None
    raise LibraryNotFound(
        f".NET assembly {os.fspath(library)!r} not found. Tried:\n  - "
        + "\n  - ".join(f"{c}: no such file" for c in tried)
        + "\nPut the assembly next to the module that defines the class, or give its full path."
    )
