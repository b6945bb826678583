"""Make a one-folder PyInstaller build run with no i386 package of the system (Linux).

PyInstaller's bootloader is a dynamically linked i386 program: the kernel starts it
through ``/lib/ld-linux.so.2``, and it needs the system's i386 C library and zlib before
it can unpack anything. This step copies the loader, the C library and every other
library the build needs from outside itself into the build's folder, and puts a small
``/bin/sh`` launcher in front that runs the bootloader through the bundled loader::

    server32/bitbridge-server32        the launcher (what bridges run)
    server32/_internal/                PyInstaller's build (bootloader, Python, libraries)
    server32/_internal/ld-linux.so.2   ... with the i386 loader and C library it runs on

The one-file build is the same folder packed into the launcher as a gzipped tar: on
first start it unpacks into a cache folder (once per build) and runs from there.

Run by the 32-bit Python that froze the build, so that ``/proc/self/maps`` names the
loader and C library that this very interpreter runs on.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

#: The launcher's name and the folder of the build beside it.
CONTENTS = "_internal"

#: Parts of glibc (and libgcc_s, which glibc opens for thread cancellation) that
#: programs load on demand rather than by linking: copied even when no file names them.
ON_DEMAND = (
    "libnss_files.so.2",
    "libnss_dns.so.2",
    "libresolv.so.2",
    "libgcc_s.so.1",
    "librt.so.1",
    "libutil.so.1",
    "libanl.so.1",
)

LAUNCHER = """\
#!/bin/sh
# bitbridge's frozen 32-bit server. It runs through the i386 loader and C library in
# {contents}/, so it needs no 32-bit package of the system: only a kernel that runs
# 32-bit programs.
self=$(readlink -f -- "$0" 2>/dev/null) || self=$0
here=${{self%/*}}
[ "$here" = "$self" ] && here=.
: "${{BITBRIDGE_SERVER32_LAUNCHER:=$self}}"
export BITBRIDGE_SERVER32_LAUNCHER
exec "$here/{contents}/ld-linux.so.2" --library-path "$here/{contents}" \\
    "$here/{contents}/{name}" "$@"
"""

# The offset is written with a fixed width, so that the header's size does not depend on it.
ONE_FILE_HEADER = """\
#!/bin/sh
# bitbridge's frozen 32-bit server in one file: a gzipped tar of the one-folder build
# follows this script. It is unpacked once into a cache folder, then run from there.
digest={digest}
offset={offset:012d}
cache=${{XDG_CACHE_HOME:-${{HOME:-/tmp}}/.cache}}/bitbridge
target=$cache/{name}-$digest
if [ ! -x "$target/{name}" ]; then
    mkdir -p "$cache" && work=$(mktemp -d "$target.XXXXXX") || exit 127
    if ! tail -c +"$offset" "$0" | tar -xzf - -C "$work"; then
        rm -rf "$work"
        echo "{name}: cannot unpack into $cache (full, or not writable? set XDG_CACHE_HOME)" >&2
        exit 127
    fi
    [ -e "$target" ] || mv "$work" "$target"
    rm -rf "$work"  # what is left when another server unpacked the same build first
fi
self=$(readlink -f -- "$0" 2>/dev/null) || self=$0
BITBRIDGE_SERVER32_LAUNCHER=$self exec "$target/{name}" "$@"
exit 127
"""


def running_runtime() -> tuple[Path, list[Path]]:
    """Return the i386 loader this process runs on and the folders of its libraries."""
    loader: Path | None = None
    folders: list[Path] = []
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            path = Path(line.split(maxsplit=5)[-1].strip())
            if path.name == "ld-linux.so.2":
                loader = path
            elif path.name.startswith("lib") and ".so" in path.name and path.parent not in folders:
                folders.append(path.parent)
    if loader is None:
        raise SystemExit("freeze: cannot tell which i386 loader this Python runs on")
    return loader, folders


def library_path(loader: Path, folders: list[Path]) -> list[Path]:
    """Return where the bundled libraries are looked for: the loader's and C library's
    folders, then those of ``LD_LIBRARY_PATH`` (the build's own first)."""
    extra = [Path(part) for part in os.environ.get("LD_LIBRARY_PATH", "").split(":") if part]
    ordered: list[Path] = []
    for folder in [*extra, loader.parent, *folders]:
        if folder not in ordered:
            ordered.append(folder)
    return ordered


def dependencies(loader: Path, search: list[Path], elf: Path) -> dict[str, Path]:
    """Return the libraries ``elf`` needs (by name) as the loader resolves them."""
    listing = subprocess.run(
        [str(loader), "--library-path", ":".join(map(str, search)), "--list", str(elf)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = {}
    for match in re.finditer(r"^\s*(\S+) => (/\S+)", listing, re.MULTILINE):
        found[match.group(1)] = Path(match.group(2))
    return found


def _is_elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def bundle_runtime(contents: Path) -> list[str]:
    """Copy into ``contents`` the loader and every library its ELF files need from
    outside it; return the names copied."""
    loader, folders = running_runtime()
    search = [contents, *library_path(loader, folders)]
    needed: dict[str, Path] = {"ld-linux.so.2": loader}
    elves = [path for path in sorted(contents.rglob("*")) if path.is_file() and _is_elf(path)]
    for elf in elves:
        needed.update(dependencies(loader, search, elf))
    libc_folder = needed["libc.so.6"].parent if "libc.so.6" in needed else loader.parent
    for name in ON_DEMAND:
        if (libc_folder / name).exists():
            needed.setdefault(name, libc_folder / name)
    copied = []
    for name, source in sorted(needed.items()):
        target = contents / name
        if target.exists() or source.resolve().is_relative_to(contents.resolve()):
            continue
        shutil.copy2(source.resolve(), target)
        copied.append(name)
    # Closing the set: the libraries just copied may need others in turn.
    for name in copied:
        for more, source in dependencies(loader, search, contents / name).items():
            if not (contents / more).exists():
                shutil.copy2(source.resolve(), contents / more)
                copied.append(more)
    return copied


def write_launcher(folder: Path, name: str) -> Path:
    """Write the launcher that runs ``folder/_internal/name`` through the bundled loader."""
    launcher = folder / name
    launcher.write_text(LAUNCHER.format(contents=CONTENTS, name=name), encoding="utf-8")
    launcher.chmod(0o755)
    return launcher


def pack_one_file(folder: Path, output: Path, name: str) -> Path:
    """Pack the one-folder build ``folder`` into the single file ``output``."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    payload = archive.getvalue()
    digest = hashlib.sha256(payload).hexdigest()[:16]
    header = ONE_FILE_HEADER.format(digest=digest, offset=0, name=name)
    header = ONE_FILE_HEADER.format(digest=digest, offset=len(header.encode()) + 1, name=name)
    output.write_bytes(header.encode() + payload)
    output.chmod(0o755)
    return output
