"""Find and load the shared library of a bridge class (in the server process)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from pathlib import Path
from typing import Any

from bitbridge.errors import LibraryLoadError, LibraryNotFound, WrongArchitecture
from bitbridge.paths import library_candidates

LIBTYPES = {"cdll": "CDLL", "windll": "WinDLL", "oledll": "OleDLL"}

if sys.platform == "win32":
    SUFFIX = ".dll"
elif sys.platform == "darwin":
    SUFFIX = ".dylib"
else:
    SUFFIX = ".so"

# What the platform's loader says when the file is for another architecture.
_WRONG_ARCHITECTURE = ("wrong ELF class", "not a valid Win32 application", "[WinError 193]")


def load_library(library: str | os.PathLike[str] | None, libtype: str | None, near: Path) -> Any:
    """Load ``library`` with the ctypes loader of ``libtype``; None when there is none.

    A relative name is looked up in ``near`` (the folder of the defining module) first,
    with and without the platform's suffix, then by the platform's own search.
    """
    if library is None or libtype is None:
        return None
    if libtype == "net":
        return _load_assembly(Path(library), near)
    loader = _loader(libtype)
    tried: list[str] = []
    for candidate in library_candidates(Path(library), near, SUFFIX):
        if not candidate.is_file():
            tried.append(f"{candidate}: no such file")
            continue
        try:
            return loader(str(candidate))
        except OSError as exc:
            raise _load_error(str(candidate), exc) from None
    if not Path(library).is_absolute():
        for name in _search_names(os.fspath(library)):
            try:
                return loader(name)
            except OSError as exc:
                if _is_wrong_architecture(exc):
                    raise _load_error(name, exc) from None
                tried.append(f"{name} (platform search): {exc}")
    raise LibraryNotFound(
        f"library {os.fspath(library)!r} not found. Tried:\n  - "
        + "\n  - ".join(tried)
        + "\nPut the library next to the module that defines the class, or give its full path."
    )


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


def _loader(libtype: str) -> Any:
    if libtype not in LIBTYPES:
        raise LibraryLoadError(
            f"unknown libtype {libtype!r}; use one of {sorted([*LIBTYPES, 'net'])} or None "
            "(no library)"
        )
    loader = getattr(ctypes, LIBTYPES[libtype], None)
    if loader is None:
        raise LibraryLoadError(f"libtype {libtype!r} is available on Windows only")
    return loader


def _search_names(name: str) -> list[str]:
    names = [name] if name.endswith(SUFFIX) or ".so." in name else [name + SUFFIX, name]
    found = ctypes.util.find_library(name)
    if found and found not in names:
        names.append(found)
    return names


def _is_wrong_architecture(exc: OSError) -> bool:
    return any(marker in str(exc) for marker in _WRONG_ARCHITECTURE)


def _load_error(path: str, exc: OSError) -> Exception:
    if _is_wrong_architecture(exc):
        bits = struct.calcsize("P") * 8
        return WrongArchitecture(
            f"{path} cannot be loaded by this {bits}-bit server ({sys.executable}): wrong "
            f"architecture ({exc}). Build the library for {bits} bits, or host it with an "
            "interpreter of the library's bitness (the python32 option)."
        )
    return LibraryLoadError(f"{path} exists but could not be loaded: {exc}")
