"""Provision a private 32-bit CPython from Debian/Ubuntu i386 packages.

The packages are downloaded with ``apt-get download`` and unpacked with ``dpkg-deb -x``
into a folder of bitbridge's own; nothing is installed into the system, so the system's
Python stays as it is. The interpreter runs through the unpacked i386 dynamic loader.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bitbridge.interpreter import MANIFEST, provisioned_folder

Report = Callable[[str], None]

# Pulled in by dependencies of the interpreter's packages, but not needed to run it.
_SKIPPED = {"dpkg", "tar", "install-info", "debconf", "perl-base"}


class ProvisionError(RuntimeError):
    """Provisioning failed; the message says why and what to do."""


def install(version: str | None = None, force: bool = False, report: Report = print) -> Path:
    """Provision CPython for i386 and return the folder it is in."""
    target = provisioned_folder()
    if (target / MANIFEST).exists() and not force:
        report(f"a 32-bit Python is already provisioned in {target} (use --force to redo)")
        return target
    _require_debian_tools()
    _require_i386(report)
    version = version or _default_version()
    packages = _dependency_closure(
        [f"python{version}-minimal:i386", f"libpython{version}-stdlib:i386"]
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="python32-", dir=target.parent) as work:
        debs, root = Path(work, "debs"), Path(work, "root")
        debs.mkdir()
        report(f"downloading {len(packages)} i386 packages for Python {version} ...")
        _download(packages, debs)
        files = sorted(debs.glob("*.deb"))
        for number, deb in enumerate(files, 1):
            report(f"unpacking [{number}/{len(files)}] {deb.name}")
            _run(["dpkg-deb", "-x", str(deb), str(root)], what="dpkg-deb -x")
        command = _command(target / "root", version)
        _write_launcher(root.parent / "python3", command)
        (root.parent / MANIFEST).write_text(
            json.dumps({"command": command, "version": version, "packages": packages}, indent=1),
            encoding="utf-8",
        )
        shutil.rmtree(debs)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
        os.mkdir(work)  # so that TemporaryDirectory's clean-up finds what it made
    bits = check(command)
    report(f"provisioned a {bits}-bit Python {version} in {target}")
    return target


def remove(report: Report = print) -> None:
    """Remove the provisioned interpreter."""
    remove_folder(provisioned_folder(), report)


def remove_folder(target: Path, report: Report = print) -> None:
    """Remove a folder that bitbridge provisioned, saying what was done."""
    if not target.exists():
        report(f"nothing provisioned in {target}")
        return
    shutil.rmtree(target)
    report(f"removed {target}")


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


def _require_debian_tools() -> None:
    missing = [
        tool for tool in ("apt-get", "apt-cache", "dpkg", "dpkg-deb") if not shutil.which(tool)
    ]
    if sys.platform != "linux" or missing:
        raise ProvisionError(
            "provisioning needs Debian or Ubuntu (apt-get, dpkg-deb). Elsewhere, install any "
            "32-bit Python yourself and set BITBRIDGE_PYTHON32 to its path."
        )


def _require_i386(report: Report) -> None:
    foreign = _run(["dpkg", "--print-foreign-architectures"], what="dpkg").split()
    if "i386" in foreign and _known("libc6:i386"):
        return
    if os.geteuid() != 0:
        raise ProvisionError(
            "the i386 architecture is not enabled in apt. Run once, as root:\n"
            "  dpkg --add-architecture i386 && apt-get update\n"
            "then run `bitbridge python32 install` again."
        )
    report("enabling the i386 architecture in apt and updating package lists ...")
    _run(["dpkg", "--add-architecture", "i386"], what="dpkg --add-architecture")
    subprocess.run(["apt-get", "update", "-qq"], check=False)  # a stale mirror index is not fatal
    if not _known("libc6:i386"):
        raise ProvisionError("apt still knows no i386 packages after `apt-get update`")


def _known(package: str) -> bool:
    result = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package], capture_output=True, check=False
    )
    return result.returncode == 0 and bool(result.stdout.strip())


def _default_version() -> str:
    """The client's own Python version if the distribution has it for i386, else its default."""
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if _known(f"python{own}-minimal:i386"):
        return own
    depends = _run(["apt-cache", "depends", "python3-minimal:i386"], what="apt-cache depends")
    for line in depends.splitlines():
        name = line.split(":", 1)[-1].strip()
        if name.startswith("python3.") and name.endswith("-minimal:i386"):
            return name[len("python") : -len("-minimal:i386")]
    raise ProvisionError("found no python3.X-minimal:i386 package in apt's lists")


def _dependency_closure(roots: list[str]) -> list[str]:
    listing = _run(
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


def _download(packages: list[str], folder: Path) -> None:
    """Download packages with apt-get, its progress lines shown as they come."""
    result = subprocess.run(
        ["apt-get", "download", *packages], cwd=folder, stderr=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        raise ProvisionError(
            f"apt-get download failed (exit code {result.returncode}):\n{result.stderr}"
        )


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisionError(f"{what} failed (exit code {result.returncode}):\n{result.stderr}")
    return result.stdout
