"""Freeze bitbridge's server into a standalone executable with PyInstaller.

Run by file path with the 32-bit Python whose standard library the server should carry,
with PyInstaller, bitbridge and rpyc importable by it (``bitbridge server32 build``
arranges that on Linux; on Windows, ``pip install pyinstaller bitbridge`` into a 32-bit
python.org Python). Run by path, it uses the standard library only and imports its
sibling ``standalone.py`` by name, so the folder needs nothing else on the path; it also
runs as ``python -m bitbridge.provision.freeze.freeze32`` where bitbridge is installed::

    python freeze32.py [--onefile] [--imports numpy ...] [--dist DIR] [-- PYINSTALLER-OPTION ...]

The result is ``DIR/bitbridge-server32`` (``.exe`` on Windows): a one-folder build by
default, which starts without unpacking anything, or one file with ``--onefile``. The
whole standard library is frozen in, so that a user's module may import any of it;
``--imports`` adds packages (and what they import) that the 32-bit Python has. On Linux
the build carries its own i386 loader and C library (``standalone.py``), so that it runs
where no i386 package is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import struct
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

NAME = "bitbridge-server32"
ENTRY = Path(__file__).with_name("server32_entry.py")

# Standard modules that a server has no use for, or that need a GUI or a test tree.
EXCLUDED = {
    "__main__",
    "antigravity",
    "ensurepip",
    "idlelib",
    "lib2to3",
    "test",
    "this",
    "tkinter",
    "_tkinter",
    "turtle",
    "turtledemo",
}
SKIPPED_FOLDERS = {"__pycache__", "test", "tests", "idle_test"}
# PyInstaller's own dependencies, which its distutils hook would pull in.
BUILD_TOOLS = {"setuptools", "pkg_resources", "_distutils_hack"}

# Libraries that PyInstaller leaves out as parts of glibc, which they no longer are (Debian
# 12 ships them apart): the crypt and nis modules need them.
UNBUNDLED_LIBRARIES = ("libcrypt.so.1", "libnsl.so.2")

# What the server itself runs on; every submodule is frozen in, since rpyc's classic
# protocol imports modules by name at run time.
SERVER_PACKAGES = ("bitbridge", "rpyc")
# The parts of bitbridge that only a client or the command line runs: left out. Named in
# bitbridge/paths.py (standard library only), read by file: this script runs by path.
_PATHS = Path(__file__).resolve().parents[2] / "paths.py"
_spec = importlib.util.spec_from_file_location("bitbridge_paths", _PATHS)
assert _spec is not None
assert _spec.loader is not None
_paths = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_paths)
CLIENT_ONLY: tuple[str, ...] = _paths.CLIENT_ONLY


def server_side(module: str) -> bool:
    """False for a module of CLIENT_ONLY (or below one)."""
    return not any(module == part or module.startswith(part + ".") for part in CLIENT_ONLY)


def modules_of(name: str) -> list[str]:
    """Return ``name`` and, for a package, every module below it; [] when absent."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    found = [name]
    for location in spec.submodule_search_locations or ():
        found += _walk(Path(location), name)
    return found


def _walk(folder: Path, prefix: str) -> Iterable[str]:
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            if entry.name not in SKIPPED_FOLDERS and (entry / "__init__.py").exists():
                yield f"{prefix}.{entry.name}"
                yield from _walk(entry, f"{prefix}.{entry.name}")
        elif entry.suffix in (".py", ".so", ".pyd") and entry.name != "__init__.py":
            module = entry.name.split(".", 1)[0]
            if module.isidentifier():
                yield f"{prefix}.{module}"


def standard_modules() -> list[str]:
    """Return every module of this Python's standard library that is installed."""
    found: list[str] = []
    for name in sorted(sys.stdlib_module_names - EXCLUDED):
        found += modules_of(name)
    return found


def unbundled_libraries() -> list[str]:
    """Return the paths of the UNBUNDLED_LIBRARIES found where the dynamic loader looks."""
    if sys.platform != "linux":
        return []
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    folders = os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)
    folders += [f"/lib/{multiarch}", f"/usr/lib/{multiarch}"]
    found = []
    for name in UNBUNDLED_LIBRARIES:
        paths = (os.path.join(folder, name) for folder in folders if folder)
        found += [path for path in paths if os.path.exists(path)][:1]
    return found


def pyinstaller_arguments(args: argparse.Namespace, work: Path) -> list[str]:
    """Return PyInstaller's command line for the server."""
    arguments = [
        "--noconfirm",
        "--log-level=WARN",
        f"--name={NAME}",
        f"--distpath={work / 'dist'}",
        f"--workpath={work / 'build'}",
        f"--specpath={work}",
        "--python-option=u",
    ]
    if sys.platform == "linux":  # one folder, bootloader inside: standalone.py wraps it
        arguments += ["--onedir", "--contents-directory=."]
    else:
        arguments.append("--onefile" if args.onefile else "--onedir")
    arguments += [f"--paths={os.path.abspath(path)}" for path in args.paths]
    modules = standard_modules()
    for package in SERVER_PACKAGES:
        modules += filter(server_side, modules_of(package))
    modules += args.imports
    arguments += [f"--hidden-import={module}" for module in modules]
    excluded = (EXCLUDED | BUILD_TOOLS) - {name.split(".")[0] for name in args.imports}
    arguments += [f"--exclude-module={module}" for module in sorted(excluded | set(CLIENT_ONLY))]
    arguments += [f"--add-binary={path}:." for path in unbundled_libraries()]
    return [*arguments, *args.pyinstaller, str(ENTRY)]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="freeze32.py",
        description="Freeze bitbridge's server with this Python and PyInstaller.",
    )
    parser.add_argument(
        "--imports", nargs="+", default=[], metavar="MODULE", help="extra packages to freeze in"
    )
    parser.add_argument("--onefile", action="store_true", help="one file instead of a folder")
    parser.add_argument("--dist", type=Path, default=Path("dist", "server32"), help="output folder")
    parser.add_argument(
        "--paths", nargs="+", default=[], metavar="DIR", help="more folders to import from"
    )
    parser.add_argument(
        "--any-bits", action="store_true", help="freeze even if this Python is not 32-bit"
    )
    parser.add_argument("pyinstaller", nargs="*", help="after --: options for PyInstaller")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if struct.calcsize("P") != 4 and not args.any_bits:
        print(
            f"freeze32: {sys.executable} is a {struct.calcsize('P') * 8}-bit Python; run this "
            "with a 32-bit one (or pass --any-bits).",
            file=sys.stderr,
        )
        return 2
    sys.path[:0] = [os.path.abspath(path) for path in args.paths]
    missing = [
        name for name in [*SERVER_PACKAGES, "PyInstaller", *args.imports] if not modules_of(name)
    ]
    if missing:
        print(
            f"freeze32: {sys.executable} cannot import {', '.join(missing)}. Install them for "
            "this Python (pip install ...), or name their folders with --paths.",
            file=sys.stderr,
        )
        return 2
    import PyInstaller.__main__

    args.dist.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="freeze32-", dir=args.dist.parent) as temp:
        work = Path(temp)
        PyInstaller.__main__.run(pyinstaller_arguments(args, work))
        staged = work / "staged"
        staged.mkdir()
        if sys.platform == "linux":
            stage_standalone(work / "dist" / NAME, staged, args.onefile)
        elif args.onefile:
            shutil.move(str(work / "dist" / f"{NAME}.exe"), staged / f"{NAME}.exe")
        else:
            shutil.rmtree(staged)
            shutil.move(str(work / "dist" / NAME), staged)
        if args.dist.exists():
            shutil.rmtree(args.dist)
        shutil.move(str(staged), args.dist)
    print(f"freeze32: built {args.dist / NAME}")
    return 0


def stage_standalone(build: Path, staged: Path, onefile: bool) -> None:
    """Turn PyInstaller's folder ``build`` into the standalone server in ``staged``."""
    if TYPE_CHECKING or __package__:  # run as a module: python -m bitbridge.provision...
        from bitbridge.provision.freeze import standalone
    else:  # run by path, as `bitbridge server32 build` does: the sibling script
        import standalone

    folder = staged / "folder" if onefile else staged
    folder.mkdir(exist_ok=True)
    contents = folder / standalone.CONTENTS
    shutil.move(str(build), contents)
    copied = standalone.bundle_runtime(contents)
    print(f"freeze32: bundled the i386 runtime: {', '.join(copied)}")
    standalone.write_launcher(folder, NAME)
    if onefile:
        standalone.pack_one_file(folder, staged / NAME, NAME)
        shutil.rmtree(folder)


if __name__ == "__main__":
    sys.exit(main())
