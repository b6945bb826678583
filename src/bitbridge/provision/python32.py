"""Provision a private 32-bit CPython from Debian/Ubuntu i386 packages.

The packages are downloaded with ``apt-get download`` and unpacked with ``dpkg-deb -x``
into a folder of bitbridge's own; nothing is installed into the system, so the system's
Python stays as it is. The interpreter runs through the unpacked i386 dynamic loader.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bitbridge import paths
from bitbridge.provision import ProvisionError
from bitbridge.provision._debian import (
    Report,
    download_and_unpack,
    known,
    remove_folder,
    require_i386,
    require_tools,
    run,
)

# Pulled in by dependencies of the interpreter's packages, but not needed to run it.
_SKIPPED = {"dpkg", "tar", "install-info", "debconf", "perl-base"}


def install(version: str | None = None, force: bool = False, report: Report = print) -> Path:
    """Provision CPython for i386 and return the folder it is in."""
    target = paths.python32_folder()
    if (target / paths.MANIFEST).exists() and not force:
        report(f"a 32-bit Python is already provisioned in {target} (use --force to redo)")
        return target
    require_tools()
    require_i386(report)
    version = version or _default_version()
    packages = _dependency_closure(
        [f"python{version}-minimal:i386", f"libpython{version}-stdlib:i386"]
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="python32-", dir=target.parent) as work:
        root = Path(work, "root")
        report(f"provisioning Python {version} for i386 from {len(packages)} Debian packages")
        download_and_unpack(packages, root, report)
        command = _command(target / "root", version)
        _write_launcher(root.parent / "python3", command)
        paths.write_manifest(
            root.parent, {"command": command, "version": version, "packages": packages}
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
        os.mkdir(work)  # so that TemporaryDirectory's clean-up finds what it made
    bits = check(command)
    report(f"provisioned a {bits}-bit Python {version} in {target}")
    return target


def remove(report: Report = print) -> None:
    """Remove the provisioned interpreter."""
    remove_folder(paths.python32_folder(), report)


def check(command: list[str]) -> int:
    """Run the interpreter once; return its pointer size in bits."""
    probe = "import ctypes, struct; print(struct.calcsize('P') * 8)"
    result = subprocess.run(
        [*command, "-I", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise ProvisionError(f"the provisioned interpreter does not run:\n{result.stderr}")
    return int(result.stdout)


def _command(root: Path, version: str) -> list[str]:
    library_path = ":".join(
        str(root / part) for part in ("lib/i386-linux-gnu", "usr/lib/i386-linux-gnu")
    )
    return [
        str(root / "lib" / "ld-linux.so.2"),
        "--library-path",
        library_path,
        str(root / "usr" / "bin" / f"python{version}"),
    ]


def _write_launcher(path: Path, command: list[str]) -> None:
    quoted = " ".join(f"'{part}'" for part in command)
    path.write_text(f'#!/bin/sh\nexec {quoted} "$@"\n', encoding="utf-8")
    path.chmod(0o755)


def _default_version() -> str:
    """The client's own Python version if the distribution has it for i386, else its default."""
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if known(f"python{own}-minimal:i386"):
        return own
    depends = run(["apt-cache", "depends", "python3-minimal:i386"], what="apt-cache depends")
    for line in depends.splitlines():
        name = line.split(":", 1)[-1].strip()
        if name.startswith("python3.") and name.endswith("-minimal:i386"):
            return name[len("python") : -len("-minimal:i386")]
    raise ProvisionError("found no python3.X-minimal:i386 package in apt's lists")


def _dependency_closure(roots: list[str]) -> list[str]:
    listing = run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            *roots,
        ],
        what="apt-cache depends",
    )
    names = {
        line.strip()
        for line in listing.splitlines()
        if line and not line[0].isspace() and not line.startswith("<") and line.endswith(":i386")
    }
    return sorted(name for name in names if name.split(":")[0] not in _SKIPPED)
