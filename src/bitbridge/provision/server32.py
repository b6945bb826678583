"""Build the frozen 32-bit server on Linux: ``bitbridge server32 build`` (``make freeze``).

Runs in the client's Python, from the command line. It gathers what the 32-bit side
(``freeze/freeze32.py``, beside this module) needs, then runs it with the 32-bit
interpreter a bridge would use (``$BITBRIDGE_PYTHON32`` or the provisioned one):

- PyInstaller (and any ``--packages``) from their i686 wheels, installed with the
  client's pip into ``WORK/site``;
- bitbridge, rpyc and their dependencies from the client's own folders, as the
  interpreter-hosted server uses them, linked into ``WORK/packages``;
- Python's shared library, which PyInstaller needs and Debian's statically linked
  ``python3.X`` lacks: Debian's ``libpython3.X:i386``, unpacked into ``WORK``.

``WORK`` is ``build/freeze`` and the output ``dist/server32``, both under the current
folder unless named. Nothing is done when the output is up to date with its inputs. The
last line printed is the path of the frozen server.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bitbridge import paths
from bitbridge.client.interpreter import Interpreter, find_python32
from bitbridge.paths import FROZEN_NAME, package_locations
from bitbridge.provision import ProvisionError
from bitbridge.provision._debian import download_and_unpack

#: The 32-bit side: scripts the 32-bit Python runs by file path.
FREEZE32 = Path(__file__).resolve().parent / "freeze" / "freeze32.py"
STAMP = ".bitbridge-freeze.json"
PYINSTALLER = "pyinstaller>=6.10,<7"  # 6.10: starts when run through the dynamic loader
SERVER_DISTRIBUTIONS = [name for name in paths.SERVER_PACKAGES if name != "bitbridge"]

PROBE = """
import json, struct, sys, sysconfig
print(json.dumps({
    "version": f"{sys.version_info.major}.{sys.version_info.minor}",
    "pointer_size": struct.calcsize("P"),
    "soname": sysconfig.get_config_var("INSTSONAME") or "",
    "libdir": sysconfig.get_config_var("LIBDIR") or "",
    "prefix": sys.prefix,
}))
"""


def log(message: str) -> None:
    print(f"freeze: {message}", flush=True)


def add_parser(actions: Any) -> argparse.ArgumentParser:
    """Add ``build`` to the actions of ``bitbridge server32``; return its parser."""
    parser: argparse.ArgumentParser = actions.add_parser(
        "build",
        help="freeze a standalone 32-bit server with PyInstaller (Linux)",
        description="Freeze bitbridge's server with PyInstaller, run by the 32-bit Python, "
        "into a folder (or one file) that runs on x86-64 Linux with no i386 package "
        "installed. Quick when nothing changed; the last line printed is the server's path.",
    )
    parser.add_argument(
        "--imports", nargs="*", default=[], metavar="MODULE",
        help="extra packages to freeze in (what a bridge's module imports)",
    )  # fmt: skip
    parser.add_argument(
        "--packages", nargs="*", default=[], metavar="REQUIREMENT",
        help="pip requirements to install for the 32-bit Python first",
    )  # fmt: skip
    parser.add_argument("--onefile", action="store_true", help="one file instead of a folder")
    parser.add_argument(
        "--dist", type=Path, default=Path("dist", "server32"),
        help="output folder (default: dist/server32)",
    )  # fmt: skip
    parser.add_argument(
        "--work", type=Path, default=Path("build", "freeze"),
        help="folder for what the build downloads and unpacks (default: build/freeze)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", type=Path, metavar="DIR",
        help="use DIR instead when it holds an up-to-date build",
    )  # fmt: skip
    parser.add_argument(
        "--install", action="store_true", help=f"then copy it to {paths.server32_folder()}"
    )
    return parser


def build(args: argparse.Namespace) -> Path:
    """Build (or reuse) the frozen server that ``args`` describe; return its executable."""
    if sys.platform != "linux":
        raise ProvisionError(
            "`bitbridge server32 build` runs on Linux. Elsewhere, install PyInstaller and "
            f"bitbridge into a 32-bit Python and run its freeze script:\n  {FREEZE32}"
        )
    args.dist, args.work = args.dist.resolve(), args.work.resolve()
    python = find_python32()
    fingerprint = digest(python, args)
    result: Path = args.dist
    if args.reuse is not None and built(args.reuse, fingerprint):
        result = args.reuse.resolve()
    elif built(args.dist, fingerprint):
        log(f"{args.dist / FROZEN_NAME} is up to date")
    else:
        freeze(python, args, fingerprint)
    if args.install:
        result = install(result)
    print(result / FROZEN_NAME)
    return result / FROZEN_NAME


def describe(python: Interpreter) -> dict[str, Any]:
    """Ask the interpreter its version, pointer size and shared library name."""
    output = subprocess.run(
        [*python.command, "-I", "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    details: dict[str, Any] = json.loads(output)
    return details


def digest(python: Interpreter, args: argparse.Namespace) -> str:
    """Fingerprint everything the build depends on: bitbridge's sources (the freeze
    scripts among them), the server's packages, the interpreter and the options."""
    inputs = hashlib.sha256()
    for source in sorted(Path(package_locations()["bitbridge"]).rglob("*.py")):
        inputs.update(source.name.encode() + source.read_bytes())
    versions = {name: importlib.metadata.version(name) for name in SERVER_DISTRIBUTIONS}
    settings = [python.command, versions, PYINSTALLER, args.imports, args.packages, args.onefile]
    inputs.update(json.dumps(settings).encode())
    return inputs.hexdigest()


def built(folder: Path, fingerprint: str) -> bool:
    """True when ``folder`` holds a server built from exactly these inputs."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(stamp.get("digest") == fingerprint and (folder / FROZEN_NAME).is_file())


def install_site(work: Path, details: dict[str, Any], packages: list[str]) -> Path:
    """Install PyInstaller and ``packages`` for the 32-bit Python, from i686 wheels."""
    site = work / "site"
    requirements = [PYINSTALLER, *packages]
    marker = site / ".requirements.json"
    wanted = json.dumps([details["version"], requirements])
    if marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        return site
    log(f"installing {' '.join(requirements)} for the 32-bit Python")
    shutil.rmtree(site, ignore_errors=True)
    abi = "cp" + details["version"].replace(".", "")
    platforms = ["manylinux2014_i686", "manylinux_2_28_i686", "linux_i686"]
    installed = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(site), "--only-binary=:all:", "--implementation", "cp",
            "--python-version", details["version"], "--abi", abi,
            *(f"--platform={platform}" for platform in platforms),
            *requirements,
        ],
        check=False,
    )  # fmt: skip
    if installed.returncode != 0:
        raise ProvisionError(
            f"pip could not install {' '.join(requirements)} for a 32-bit Python "
            f"{details['version']} (i686 wheels only: a package without one cannot be frozen in)"
        )
    marker.write_text(wanted, encoding="utf-8")
    return site


def link_packages(work: Path) -> Path:
    """Link the folders of the packages the server runs on, as the client has them."""
    folder = work / "packages"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for location in package_locations().values():
        (folder / Path(location).name).symlink_to(location)
    return folder


def library_path(python: Interpreter) -> list[str]:
    """Return the folders the interpreter's ``--library-path`` names (the provisioned one)."""
    command = list(python.command)
    if "--library-path" in command:
        return command[command.index("--library-path") + 1].split(":")
    return []


def shared_library(work: Path, python: Interpreter, details: dict[str, Any]) -> list[str]:
    """Return folders that hold Python's shared library, unpacking Debian's if needed."""
    soname = details["soname"]
    folders = [*library_path(python), details["libdir"], os.path.join(details["prefix"], "lib")]
    if not soname.endswith(".so.1.0") or any(Path(f, soname).exists() for f in folders if f):
        return []
    if not shutil.which("apt-get"):
        return []  # PyInstaller says what is missing
    package = f"libpython{details['version']}:i386"
    pinned = _debian_version(details)
    target = work / f"libpython-{pinned or details['version']}"
    found = next(target.rglob(soname), None) if target.exists() else None
    if found is None:
        log(f"unpacking {package} (Python's shared library, for PyInstaller)")
        shutil.rmtree(target, ignore_errors=True)
        try:  # the build of the interpreter's own standard library first
            download_and_unpack([f"{package}={pinned}" if pinned else package], target, log)
        except ProvisionError:
            if not pinned:
                raise
            download_and_unpack([package], target, log)
        found = next(target.rglob(soname))
    return [str(found.parent)]


def _debian_version(details: dict[str, Any]) -> str | None:
    """The Debian version of the interpreter's standard library package, if it has one."""
    changelog = Path(
        details["prefix"], "share", "doc", f"libpython{details['version']}-stdlib",
        "changelog.Debian.gz",
    )  # fmt: skip
    try:
        with gzip.open(changelog, "rt", encoding="utf-8") as lines:
            match = re.match(r"\S+ \(([^)]+)\)", lines.readline())
    except OSError:
        return None
    return match.group(1) if match else None


def freeze(python: Interpreter, args: argparse.Namespace, fingerprint: str) -> None:
    """Run freeze32.py with the 32-bit interpreter, then stamp the result."""
    details = describe(python)
    if details["pointer_size"] != 4:
        raise ProvisionError(f"{python.describe()} is not a 32-bit Python")
    site = install_site(args.work, details, args.packages)
    packages = link_packages(args.work)
    env = paths.server_environment()
    env["PYTHONPATH"] = str(site)
    env["PYINSTALLER_CONFIG_DIR"] = str(args.work / "pyinstaller-cache")
    libraries = [*shared_library(args.work, python, details), *library_path(python)]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        [*libraries, *filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep))]
    )
    command = [*python.command, "-s", str(FREEZE32), "--dist", str(args.dist)]
    command += ["--paths", str(packages)]
    if args.imports:
        command += ["--imports", *args.imports]
    if args.onefile:
        command.append("--onefile")
    log(f"freezing with {python.describe()}")
    started = time.monotonic()
    if subprocess.run(command, env=env, check=False).returncode != 0:
        raise ProvisionError(f"freezing failed (PyInstaller's output is above): {FREEZE32}")
    stamp = {"digest": fingerprint, "imports": args.imports, "onefile": args.onefile}
    (args.dist / STAMP).write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    log(f"built in {time.monotonic() - started:.0f} s")


def install(dist: Path) -> Path:
    """Copy the build where bridges look for a frozen server when they find no Python."""
    target = paths.server32_folder()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(dist, target, symlinks=True)
    log(f"installed in {target}")
    return target
