"""Debian/Ubuntu packages unpacked into a folder of bitbridge's: nothing is installed into
the system. The one place that downloads (``apt-get download``) and unpacks
(``dpkg-deb -x``), for the 32-bit Python, the 32-bit Mono and the frozen server's build."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bitbridge.provision import ProvisionError

Report = Callable[[str], None]


def run(command: Sequence[str], what: str, cwd: Path | None = None) -> str:
    """Run a command; return its output, or raise ProvisionError with its stderr."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisionError(f"{what} failed (exit code {result.returncode}):\n{result.stderr}")
    return result.stdout


def require_tools() -> None:
    """Fail with what to do instead where apt and dpkg are missing."""
    missing = [
        tool for tool in ("apt-get", "apt-cache", "dpkg", "dpkg-deb") if not shutil.which(tool)
    ]
    if sys.platform != "linux" or missing:
        raise ProvisionError(
            "provisioning needs Debian or Ubuntu (apt-get, dpkg-deb). Elsewhere, install any "
            "32-bit Python yourself and set BITBRIDGE_PYTHON32 to its path."
        )


def known(package: str) -> bool:
    """True when apt's lists have ``package``."""
    result = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package], capture_output=True, check=False
    )
    return result.returncode == 0 and bool(result.stdout.strip())


def require_i386(report: Report) -> None:
    """Make sure apt knows i386 packages: as root enable the architecture, else say how."""
    foreign = run(["dpkg", "--print-foreign-architectures"], what="dpkg").split()
    if "i386" in foreign and known("libc6:i386"):
        return
    if os.geteuid() != 0:
        raise ProvisionError(
            "the i386 architecture is not enabled in apt. Run once, as root:\n"
            "  dpkg --add-architecture i386 && apt-get update\n"
            "then run the same bitbridge command again."
        )
    report("enabling the i386 architecture in apt and updating package lists ...")
    run(["dpkg", "--add-architecture", "i386"], what="dpkg --add-architecture")
    subprocess.run(["apt-get", "update", "-qq"], check=False)  # a stale mirror index is not fatal
    if not known("libc6:i386"):
        raise ProvisionError("apt still knows no i386 packages after `apt-get update`")


def download_and_unpack(packages: Sequence[str], root: Path, report: Report) -> list[str]:
    """Download ``packages`` (apt's progress shown) and unpack them into ``root``; return
    the file names of the packages."""
    with tempfile.TemporaryDirectory(prefix="bitbridge-debs-") as folder:
        debs = Path(folder)
        if os.geteuid() == 0:  # else apt warns "Download is performed unsandboxed as root"
            with contextlib.suppress(LookupError, OSError):
                shutil.chown(debs, "_apt")
        named = " and ".join(packages) if len(packages) <= 3 else f"{len(packages)} packages"
        report(f"downloading {named} ...")
        result = subprocess.run(
            ["apt-get", "download", *packages], cwd=debs, stderr=subprocess.PIPE, text=True
        )
        if result.returncode != 0:
            raise ProvisionError(
                f"apt-get download failed (exit code {result.returncode}):\n{result.stderr}"
            )
        files = sorted(debs.glob("*.deb"))
        for number, deb in enumerate(files, 1):
            report(f"unpacking [{number}/{len(files)}] {deb.name}")
            run(["dpkg-deb", "-x", str(deb), str(root)], what="dpkg-deb -x")
        return [deb.name for deb in files]


def remove_folder(target: Path, report: Report) -> None:
    """Remove a folder that bitbridge provisioned, saying what was done."""
    if not target.exists():
        report(f"nothing provisioned in {target}")
        return
    shutil.rmtree(target)
    report(f"removed {target}")
