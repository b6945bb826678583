"""Find and load a native shared library with ctypes, and say clearly why one fails.

Used by the server (``server/library.py``) and by in-process bridges (``client/inprocess.py``):
the standard library only.

Where a library's own dependencies are found is decided before this runs: on Linux the
dynamic loader's search path is fixed when the process starts (the client puts the
library's folder and ``library_dirs`` on it, see ``client/library_path.py``); on Windows
:func:`load_windows` adds the folders to the DLL search of this one load.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import struct
import sys
from collections.abc import Sequence
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
# glibc's message for a dependency it did not find: "libhelper.so: cannot open shared ..."
_MISSING_DEPENDENCY = re.compile(r"([^\s:]+): cannot open shared object file")

# LoadLibraryEx flags: the folders of AddDllDirectory (and the system's), and the folder
# of the DLL being loaded, for its dependencies.
LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR = 0x00000100
LOAD_LIBRARY_SEARCH_DEFAULT_DIRS = 0x00001000

# Windows: the folders added to the DLL search stay added while the process runs.
_dll_directories: list[Any] = []


def load_native(
    library: str | os.PathLike[str],
    libtype: str,
    near: Path,
    folders: Sequence[str] = (),
    searched: Sequence[str] = (),
    bridge: str = "YourBridge",
) -> Any:
    """Load ``library`` with the ctypes loader of ``libtype``.

    A relative name is looked up in ``near`` (the folder of the defining module) first,
    with and without the platform's suffix, then by the platform's own search.
    ``folders`` are searched for its dependencies on Windows; ``searched`` names the
    folders the loader searched on Linux, and ``bridge`` the class, for the message when
    a dependency is missing.
    """
    loader = _loader(libtype)
    tried: list[str] = []
    for candidate in library_candidates(Path(library), near, SUFFIX):
        if not candidate.is_file():
            tried.append(f"{candidate}: no such file")
            continue
        try:
            return _load(loader, str(candidate), folders)
        except OSError as exc:
            raise _load_error(str(candidate), exc, searched or folders, bridge) from None
    if not Path(library).is_absolute():
        for name in _search_names(os.fspath(library)):
            try:
                return _load(loader, name, folders)
            except OSError as exc:
                if _is_wrong_architecture(exc):
                    raise _load_error(name, exc, searched, bridge) from None
                tried.append(f"{name} (platform search): {exc}")
    raise LibraryNotFound(
        f"library {os.fspath(library)!r} not found. Tried:\n  - "
        + "\n  - ".join(tried)
        + "\nPut the library next to the module that defines the class, or give its full path."
    )


def _load(loader: Any, name: str, folders: Sequence[str]) -> Any:
    if sys.platform == "win32":
        return load_windows(loader, name, folders)
    return loader(name)


def load_windows(loader: Any, name: str, folders: Sequence[str]) -> Any:
    """Load a DLL so that its dependencies are found in its own folder and in ``folders``
    (``os.add_dll_directory``), besides the system's folders (Windows only)."""
    for folder in folders:
        if os.path.isdir(folder):
            _dll_directories.append(os.add_dll_directory(folder))  # type: ignore[attr-defined,unused-ignore]
    winmode = LOAD_LIBRARY_SEARCH_DEFAULT_DIRS
    if os.path.isabs(name):  # the DLL-load-dir flag needs a full path
        winmode |= LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR
    return loader(name, winmode=winmode)


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


def missing_dependency(path: str, message: str) -> str | None:
    """The dependency that glibc's ``message`` says it could not open, if any."""
    names = [name for name in _MISSING_DEPENDENCY.findall(message) if name != path]
    return names[-1] if names else None


def _load_error(path: str, exc: OSError, searched: Sequence[str], bridge: str) -> Exception:
    if _is_wrong_architecture(exc):
        bits = struct.calcsize("P") * 8
        return WrongArchitecture(
            f"{path} cannot be loaded by this {bits}-bit process ({sys.executable}): wrong "
            f"architecture ({exc}). Build the library for {bits} bits, or host it with an "
            "interpreter of the library's bitness (the python32 option)."
        )
    dependency = missing_dependency(path, str(exc))
    if dependency is None and not (sys.platform == "win32" and "dependencies" in str(exc)):
        return LibraryLoadError(f"{path} exists but could not be loaded: {exc}")
    what = dependency or "a library it depends on (Windows does not say which)"
    folders = "".join(f"\n  - {folder}" for folder in searched) or "\n  - (no folder given)"
    return LibraryLoadError(
        f"{path} exists but could not be loaded: it needs {what}, which was not found "
        f"({exc}). Searched, besides the system's folders:{folders}\nPut the folder that "
        f"holds it in the bridge's library_dirs option: {bridge}.configure(library_dirs="
        "['/path/to/folder'])."
    )
