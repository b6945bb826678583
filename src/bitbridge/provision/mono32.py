"""Provision the private 32-bit Mono runtime that ``libtype = "net"`` loads assemblies with.

The i386 runtime (``libmonosgen-2.0-1:i386``) and System.Native
(``mono-runtime-common:i386``) are downloaded with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into ``paths.home()/mono32``, pinned to the version of the class
libraries that apt's ``mono-mcs`` installed; they are never installed into the system,
where the i386 packages would remove the amd64 Mono and the compilers. The class
libraries (architecture-independent) are used from ``/usr/lib/mono`` through a link, and
bitbridge's GC-handle helper ``bbmono.c`` is compiled with ``gcc -m32``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bitbridge import paths
from bitbridge.paths import MONO_HELPER, missing_mono_parts, mono_root
from bitbridge.provision import ProvisionError
from bitbridge.provision._debian import (
    Report,
    download_and_unpack,
    remove_folder,
    require_i386,
    require_tools,
    run,
)

#: The class libraries' package: its version pins the i386 packages.
CLASS_LIBRARIES = "libmono-corlib4.5-cil"
PACKAGES = ("libmonosgen-2.0-1", "mono-runtime-common")
SYSTEM_MONO = Path("/usr/lib/mono")
HELPER_SOURCE = paths.PACKAGE / "server" / "dotnet" / "bbmono.c"


def install(force: bool = False, report: Report = print) -> Path:
    """Provision the i386 Mono root (quick when it is already there) and return its folder."""
    require_tools()
    target = mono_root()
    version = _class_libraries_version()
    helper_hash = hashlib.sha256(HELPER_SOURCE.read_bytes()).hexdigest()
    manifest = paths.read_manifest(target)
    if not force and manifest.get("version") == version and not missing_mono_parts(target):
        if manifest.get("helper_sha256") == helper_hash:
            report(f"a 32-bit Mono {version} is already provisioned in {target}")
            return target
        report("bbmono.c changed: compiling it again")
        _compile_helper(target, report)
        _write_manifest(target, version, helper_hash)
        return target
    require_i386(report)
    _require_gcc_m32()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mono32-", dir=target.parent) as work:
        root = Path(work, "root")
        download_and_unpack([f"{name}:i386={version}" for name in PACKAGES], root, report)
        shutil.rmtree(root / "usr" / "share", ignore_errors=True)
        report(f"linking the class libraries: usr/lib/mono -> {SYSTEM_MONO}")
        (root / "usr" / "lib" / "mono").symlink_to(SYSTEM_MONO)
        _compile_helper(root, report)
        _write_manifest(root, version, helper_hash)
        if target.exists() or target.is_symlink():
            shutil.rmtree(target)
        os.replace(root, target)
    if missing := missing_mono_parts(target):
        raise ProvisionError(f"provisioning left an incomplete Mono root: no {', '.join(missing)}")
    report(f"provisioned a 32-bit Mono {version} in {target}")
    return target


def remove(report: Report = print) -> None:
    """Remove the provisioned Mono root."""
    remove_folder(mono_root(), report)


def _class_libraries_version() -> str:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status} ${Version}", CLASS_LIBRARIES],
        capture_output=True,
        text=True,
        check=False,
    )
    status = result.stdout.split()
    if result.returncode != 0 or "installed" not in status[:3] or len(status) < 4:
        raise ProvisionError(
            f"Mono's class libraries ({CLASS_LIBRARIES}) are not installed. Install Mono's "
            "compiler, which brings them, as root:\n"
            "  apt-get install --no-install-recommends mono-mcs\n"
            "then run `bitbridge mono32 install` again."
        )
    return status[3]


def _require_gcc_m32() -> None:
    if not shutil.which("gcc"):
        raise ProvisionError(
            "gcc is missing; it compiles bitbridge's Mono helper. As root:\n"
            "  apt-get install --no-install-recommends gcc-multilib"
        )


def _compile_helper(root: Path, report: Report) -> None:
    output = root / MONO_HELPER
    report(f"compiling {HELPER_SOURCE} with gcc -m32 into {MONO_HELPER}")
    command = ["gcc", "-m32", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(output)]
    try:
        run([*command, str(HELPER_SOURCE)], what="gcc -m32")
    except ProvisionError as exc:
        raise ProvisionError(
            f"{exc}\n32-bit compiling needs gcc-multilib. As root:\n"
            "  apt-get install --no-install-recommends gcc-multilib"
        ) from None


def _write_manifest(root: Path, version: str, helper_hash: str) -> None:
    details = {"version": version, "packages": list(PACKAGES), "helper_sha256": helper_hash}
    paths.write_manifest(root, details)
