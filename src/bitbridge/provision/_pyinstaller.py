"""Turn a Windows Python frozen by PyInstaller into a plain Windows Python folder.

msl-loadlib's ``server32-windows.exe`` is CPython (32-bit, MSC) frozen by PyInstaller in
one file: a bootloader followed by an archive (the "CArchive") that holds ``python3XY.dll``,
the extension modules and the standard library as code objects. Run as it is, it unpacks
20 MB into the prefix's ``%TEMP%`` at every start (and leaves them there when killed),
starts a second process and takes 2 to 3 s under Wine. Read once, the archive gives the
layout of python.org's embeddable distribution:

    python3XY.dll, vcruntime140.dll, *.pyd, libffi/libssl/libcrypto/sqlite3 .dll
    python3XY.zip       the standard library as sourceless .pyc files
    python3XY._pth      sys.path, exactly: the zip and the folder (which also isolates it)

``python.exe`` is then built from ``python_launcher.c``. Nothing of the bundle runs here;
only the table of contents of its module archive (a list of names and offsets) is
unmarshalled, and code objects are copied as they are, with the bundle's magic number.
"""

from __future__ import annotations

import io
import marshal
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

COOKIE_MAGIC = b"MEI\014\013\012\013\016"
#: magic, archive length, TOC offset, TOC length, Python version (e.g. 314), DLL name
COOKIE = struct.Struct("!8sIIII64s")
#: entry length, data offset, stored length, length, compressed flag, type code
TOC_ENTRY = struct.Struct("!IIIIBc")
#: A sourceless .pyc header after the magic number: flags 0, no timestamp, no size.
PYC_FLAGS = b"\0" * 12
#: What the bundle holds for msl-loadlib itself (its server, .NET through pythonnet) and
#: PyInstaller's own import hooks: a bitbridge server needs none of it.
LEFT_OUT = ("msl/", "pyimod", "pythonnet", "clr_loader", "setuptools", "_distutils_hack")


class BundleError(ValueError):
    """The file is not a PyInstaller bundle of a Windows Python that this can unpack."""


@dataclass(frozen=True)
class Entry:
    """One file of the bundle: its name, type code and (decompressed) data."""

    name: str
    kind: str
    data: bytes


@dataclass(frozen=True)
class Bundle:
    """What a PyInstaller bundle holds."""

    python_version: tuple[int, int]
    python_dll: str
    entries: list[Entry]

    @property
    def stem(self) -> str:
        """The Python DLL's name without its suffix, e.g. ``python314``."""
        return Path(self.python_dll).stem


def read_bundle(exe: bytes) -> Bundle:
    """Read the archive appended to a PyInstaller program."""
    position = exe.rfind(COOKIE_MAGIC)
    if position < 0:
        raise BundleError("no PyInstaller archive found in it")
    _, length, toc_offset, toc_length, version, dll = COOKIE.unpack_from(exe, position)
    start = position + COOKIE.size - length
    toc = exe[start + toc_offset : start + toc_offset + toc_length]
    entries = []
    offset = 0
    while offset < len(toc):
        size, data_offset, stored, _, compressed, kind = TOC_ENTRY.unpack_from(toc, offset)
        name = toc[offset + TOC_ENTRY.size : offset + size].rstrip(b"\0").decode()
        blob = exe[start + data_offset : start + data_offset + stored]
        entries.append(Entry(name, kind.decode(), zlib.decompress(blob) if compressed else blob))
        offset += size
    python_dll = dll.rstrip(b"\0").decode()
    if not python_dll.lower().endswith(".dll"):
        raise BundleError(f"it bundles {python_dll!r}, not a Windows Python DLL")
    return Bundle((version // 100, version % 100), python_dll, entries)


def pyz_modules(pyz: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield the archive name and .pyc bytes of every module of a PYZ archive."""
    if pyz[:4] != b"PYZ\0":
        raise BundleError("its module archive is not a PYZ archive")
    magic = pyz[4:8]
    (toc_position,) = struct.unpack("!i", pyz[8:12])
    for name, (kind, offset, length) in marshal.loads(pyz[toc_position:]):
        if kind not in (0, 1):  # 2: data, 3: a namespace package (nothing to write)
            continue
        code = zlib.decompress(pyz[offset : offset + length])
        path = name.replace(".", "/")
        yield (f"{path}/__init__.pyc" if kind == 1 else f"{path}.pyc"), magic + PYC_FLAGS + code


def unpack(exe: Path, target: Path) -> Bundle:
    """Write the Python of the bundle ``exe`` into the folder ``target``, without
    ``python.exe``; return what the bundle holds."""
    bundle = read_bundle(exe.read_bytes())
    archives = [entry for entry in bundle.entries if entry.kind == "z"]
    if not archives:
        raise BundleError("it holds no module archive")
    target.mkdir(parents=True, exist_ok=True)
    magic = archives[0].data[4:8]
    written: set[str] = set()
    with zipfile.ZipFile(target / f"{bundle.stem}.zip", "w", zipfile.ZIP_STORED) as stdlib:

        def add(name: str, data: bytes) -> None:
            if name not in written and not name.startswith(LEFT_OUT):
                written.add(name)
                stdlib.writestr(name, data)

        for archive in archives:
            for name, pyc in pyz_modules(archive.data):
                add(name, pyc)
        for entry in bundle.entries:
            if entry.kind == "m":  # modules kept outside the archive ("struct", say)
                add(f"{entry.name}.pyc", magic + PYC_FLAGS + entry.data)
            elif entry.name == "base_library.zip":  # encodings, codecs ... as .pyc
                with zipfile.ZipFile(io.BytesIO(entry.data)) as base:
                    for info in base.infolist():
                        add(info.filename, base.read(info))
    for entry in bundle.entries:
        is_binary = entry.name.lower().endswith((".dll", ".pyd"))
        if entry.kind == "b" and is_binary and "\\" not in entry.name and "/" not in entry.name:
            (target / entry.name).write_bytes(entry.data)
    if not (target / bundle.python_dll).is_file():
        raise BundleError(f"it does not hold {bundle.python_dll}")
    (target / f"{bundle.stem}._pth").write_text(f"{bundle.stem}.zip\n.\n", encoding="utf-8")
    return bundle
