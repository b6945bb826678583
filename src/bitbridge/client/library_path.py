"""Where the server looks for a library's own dependencies, settled before it starts.

glibc reads its search path once, when a process starts: changing ``os.environ`` in the
server would come too late. So the client computes the folders (the library's own folder,
the ``library_dirs`` option) and hands them to the server's start:

- a command that runs an interpreter through its dynamic loader (``ld-linux.so.2
  --library-path ...``, how the provisioned interpreter runs) gets them appended to
  ``--library-path``, which overrides ``LD_LIBRARY_PATH``, followed by the user's own
  ``LD_LIBRARY_PATH``; the interpreter's own folders stay first;
- ``LD_LIBRARY_PATH`` is set to them, followed by the user's own, for any other
  interpreter and for the frozen server (PyInstaller's bootloader starts Python again
  with its own folder put in front of ``LD_LIBRARY_PATH``);
- on Windows the server adds them to its DLL search (``bitbridge.native.load_windows``).

Reading the library's needed entries in the server and preloading them would not do:
glibc matches a preloaded library to a needed name only by its ``SONAME``, which many
vendor libraries lack, and it would miss libraries loaded later by name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bitbridge.options import BridgeOptions, PathLike

LOADER_OPTION = "--library-path"


def library_of(cls: Any, options: BridgeOptions) -> PathLike | None:
    """The library a bridge class loads: its ``library`` option, else its own."""
    library: PathLike | None = options.library if options.library is not None else cls.library
    return library


def folders_of(cls: Any, options: BridgeOptions, near: Path) -> list[str]:
    """:func:`bridge_folders` of a bridge class with its options."""
    return bridge_folders(library_of(cls, options), cls.libtype, near, options.library_dirs)


def bridge_folders(
    library: PathLike | None, libtype: str | None, near: Path, library_dirs: Sequence[PathLike]
) -> list[str]:
    """The folders searched for a library's dependencies: its own folder (``near``, the
    defining module's, for a bare name), then ``library_dirs`` (relative ones from
    ``near``). Folders that do not exist are kept: the message of a failure names them."""
    folders: list[str] = []
    if library is not None and libtype is not None:
        own = Path(library) if Path(library).is_absolute() else near / library
        folders.append(str(own.parent))
    for folder in library_dirs:
        path = Path(folder)
        folders.append(os.path.normpath(path if path.is_absolute() else near / path))
    return _unique(folders)


def apply(
    command: Sequence[str], environment: dict[str, str], folders: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Put ``folders`` and the user's ``LD_LIBRARY_PATH`` on the search path of the server
    that ``command`` starts (``environment`` is changed in place); return the command and
    the folders its loader searches, in order, before the system's own."""
    users = [part for part in environment.get("LD_LIBRARY_PATH", "").split(os.pathsep) if part]
    added = _unique([*folders, *users])
    if added and os.name == "posix":
        environment["LD_LIBRARY_PATH"] = os.pathsep.join(added)
    command = list(command)
    if _runs_through_loader(command):
        at = command.index(LOADER_OPTION) + 1
        own = [part for part in command[at].split(os.pathsep) if part]
        searched = _unique([*own, *added])
        command[at] = os.pathsep.join(searched)
        return command, searched
    return command, added


def _runs_through_loader(command: Sequence[str]) -> bool:
    """Whether ``command`` is a dynamic loader running a program with ``--library-path``."""
    return (
        bool(command) and Path(command[0]).name.startswith("ld-") and LOADER_OPTION in command[1:-1]
    )


def _unique(folders: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(folders))
