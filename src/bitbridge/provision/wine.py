"""``bitbridge wine install|list|remove``: Wine and the 32-bit Windows Python that hosts
the servers of Windows DLLs on Linux.

The Windows Python comes from msl-loadlib 1.1.0's Windows wheel on PyPI (its
``server32-windows.exe`` is CPython 3.14 for 32-bit Windows, frozen by PyInstaller:
``_pyinstaller.py`` unpacks it once into a plain folder and mingw builds its
``python.exe``), or from a python.org embeddable zip for 32-bit Windows that the user
names (a file or a URL). It goes into ``paths.wine_python_folder()``; servers run in
bitbridge's own WINEPREFIX (``paths.wine_prefix()``). Wine itself (Debian's ``wine`` and
``wine32:i386``) is installed with apt when run as root; otherwise the commands are
printed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from bitbridge import paths
from bitbridge.client import wine
from bitbridge.errors import StartError
from bitbridge.provision import ProvisionError
from bitbridge.provision._debian import Report, remove_folder, require_i386
from bitbridge.provision._pyinstaller import BundleError, unpack

MSL_REQUIREMENT = "msl-loadlib==1.1.0"
MSL_EXE = "msl/loadlib/server32-windows.exe"
MSL_EXE_SHA256 = "3e13ef0f2181b1d5e6a0e9458fbf055985648140486e1f51a38507e40951a1f6"
MSL_SOURCE = f"{MSL_REQUIREMENT}'s Windows wheel ({MSL_EXE}, sha256 {MSL_EXE_SHA256[:12]}...)"
WINE_PACKAGES = ("wine", "wine32:i386")
MINGW_PACKAGE = "gcc-mingw-w64-i686"
MINGW_GCC = "i686-w64-mingw32-gcc"
LAUNCHER_SOURCE = Path(__file__).with_name("python_launcher.c")
EXECUTABLE = "python.exe"
PROBE = "import struct, sys; print(struct.calcsize('P') * 8, sys.version.split()[0])"


def install(
    source: str | None = None,
    wheel: str | None = None,
    force: bool = False,
    report: Report = print,
) -> Path:
    """Provision the Windows Python (from msl-loadlib's wheel, downloaded or ``wheel``,
    or from the embeddable zip ``source``) and return its folder."""
    require_wine(report)
    target = paths.wine_python_folder()
    existing = paths.read_manifest(target)
    wanted = source or MSL_SOURCE
    if (
        not force
        and wine.provisioned_windows_python()
        and (source is None or existing.get("source") == wanted)
    ):
        report(
            f"a Windows Python {existing.get('version', '')} is already provisioned in {target} "
            f"(from {existing.get('source')}; use --force to redo)"
        )
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="python-", dir=target.parent) as work:
        folder = Path(work, "python")
        if source is None:
            _from_msl_wheel(Path(wheel) if wheel else None, folder, Path(work), report)
        else:
            _from_embeddable_zip(source, folder, Path(work), report)
        bits, version = check(folder / EXECUTABLE, report)
        if bits != 32:
            raise ProvisionError(
                f"{source or MSL_SOURCE} holds a {bits}-bit Python, not a 32-bit one"
            )
        paths.write_manifest(
            folder, {"executable": EXECUTABLE, "version": version, "source": wanted}
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(folder, target)
    report(f"provisioned a 32-bit Windows Python {version} in {target}")
    return target


def require_wine(report: Report) -> None:
    """Make sure Wine with its 32-bit loader is installed: as root install it with apt,
    else say how."""
    missing = _missing_packages(WINE_PACKAGES)
    if missing is None:  # not a Debian system: Wine from the distribution, if any
        if shutil.which("wine") is None:
            raise ProvisionError(
                "Wine is not installed. Install it, with 32-bit support, from your "
                "distribution, then run the same bitbridge command again."
            )
        return
    if missing:
        _apt_install(missing, "Wine", report)


def _require_mingw(report: Report) -> None:
    if shutil.which(MINGW_GCC) is None:
        _apt_install(
            [MINGW_PACKAGE], f"{MINGW_GCC}, which builds the Windows Python's python.exe,", report
        )


def _missing_packages(packages: tuple[str, ...] | list[str]) -> list[str] | None:
    """The Debian packages of ``packages`` that are not installed; None without dpkg."""
    if shutil.which("dpkg-query") is None:
        return None
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def _apt_install(packages: list[str], what: str, report: Report) -> None:
    if os.geteuid() != 0:
        raise ProvisionError(
            f"{what} is not installed. Run once, as root:\n"
            "  dpkg --add-architecture i386 && apt-get update\n"
            f"  apt-get install --no-install-recommends {' '.join(packages)}\n"
            "then run the same bitbridge command again."
        )
    if any(package.endswith(":i386") for package in packages):
        require_i386(report)
    report(f"installing {' '.join(packages)} with apt ...")
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise ProvisionError(
            f"apt-get install {' '.join(packages)} failed (exit code {result.returncode})"
        )


def _from_msl_wheel(wheel: Path | None, folder: Path, work: Path, report: Report) -> None:
    _require_mingw(report)
    if wheel is None:
        wheel = _download_msl_wheel(work, report)
    report(f"unpacking the Windows Python of {wheel.name}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            exe = archive.read(MSL_EXE)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ProvisionError(f"{wheel} is not msl-loadlib's Windows wheel: {exc}") from None
    if hashlib.sha256(exe).hexdigest() != MSL_EXE_SHA256:
        raise ProvisionError(f"{MSL_EXE} in {wheel} is not the one of {MSL_REQUIREMENT}")
    bundle_file = work / "server32-windows.exe"
    bundle_file.write_bytes(exe)
    try:
        bundle = unpack(bundle_file, folder)
    except BundleError as exc:
        raise ProvisionError(f"cannot unpack {MSL_EXE}: {exc}") from None
    report(f"building {EXECUTABLE} with {MINGW_GCC}")
    _run(
        [
            MINGW_GCC,
            "-municode",
            "-O2",
            "-s",
            f'-DPYTHON_DLL=L"{bundle.python_dll}"',
            "-o",
            str(folder / EXECUTABLE),
            str(LAUNCHER_SOURCE),
        ],
        MINGW_GCC,
    )


def _download_msl_wheel(work: Path, report: Report) -> Path:
    report(f"downloading {MSL_REQUIREMENT}'s Windows wheel from PyPI (15 MB) ...")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "win_amd64",
            "--disable-pip-version-check",
            "--quiet",
            MSL_REQUIREMENT,
            "--dest",
            str(work),
        ],
        "pip download",
    )
    wheels = sorted(work.glob("msl_loadlib-*.whl"))
    if not wheels:
        raise ProvisionError(f"pip download left no msl-loadlib wheel in {work}")
    return wheels[0]


def _from_embeddable_zip(source: str, folder: Path, work: Path, report: Report) -> None:
    if "://" in source:
        archive = work / "python-embed.zip"
        report(f"downloading {source} ...")
        try:
            with urllib.request.urlopen(source, timeout=60) as response, archive.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            raise ProvisionError(f"cannot download {source}: {exc}") from None
    else:
        archive = Path(source)
        if not archive.is_file():
            raise ProvisionError(f"{source}: no such file")
    report(f"unpacking {archive.name}")
    try:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ProvisionError(f"{source} is not a zip file: {exc}") from None
    executable = folder / EXECUTABLE
    machine = wine.pe_machine(executable)
    if machine != "i386":
        found = f"a {EXECUTABLE} for {machine}" if machine else f"no {EXECUTABLE}"
        raise ProvisionError(
            f"{source} holds {found}; bitbridge needs python.org's embeddable zip for 32-bit "
            "Windows (python-3.X.Y-embed-win32.zip)."
        )


def check(executable: Path, report: Report = print) -> tuple[int, str]:
    """Run a Windows Python once under Wine; return its pointer size in bits and version."""
    prefix = paths.wine_prefix()
    if not (prefix / "system.reg").exists():
        report(f"making the Wine prefix {prefix} (the first time: seconds, about 600 MB) ...")
    try:
        wine.warm_up()
        result = subprocess.run(
            [wine.find_wine(), str(executable), "-I", "-c", PROBE],
            env=wine.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (StartError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"the Windows Python does not run under Wine: {exc}") from None
    try:
        bits, version = result.stdout.split()
        return int(bits), version
    except ValueError:
        raise ProvisionError(
            f"the Windows Python {executable} does not run under Wine (exit code "
            f"{result.returncode}):\n{result.stderr.strip() or result.stdout.strip()}"
        ) from None


def remove(prefix: bool = False, report: Report = print) -> None:
    """Remove the provisioned Windows Python, and with ``prefix`` bitbridge's WINEPREFIX."""
    remove_folder(paths.wine_python_folder(), report)
    if prefix:
        wine.stop_wineserver()
        remove_folder(paths.wine_prefix(), report)


def listing() -> tuple[list[str], bool]:
    """What ``bitbridge wine list`` prints of the provisioned Windows Python and the
    prefix, and whether there is one."""
    folder = paths.wine_python_folder()
    if not wine.provisioned_windows_python():
        return [f"no Windows Python provisioned in {folder}"], False
    details = paths.read_manifest(folder)
    return [
        f"Windows Python {details.get('version')} (32-bit) in {folder}",
        f"  from {details.get('source')}",
        f"  WINEPREFIX: {_describe_prefix()}",
    ], True


def doctor_lines() -> list[str]:
    """What ``bitbridge doctor`` says about Wine, its prefix and the Windows Python."""
    found = shutil.which("wine")
    if found is None:
        return ["Wine: not installed (only Windows DLLs need it: `bitbridge wine install`)"]
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    lines = [
        f"Wine: {version or 'unknown version'} ({found})",
        f"Wine prefix: {_describe_prefix()}",
    ]
    try:
        python = wine.find_windows_python()
    except StartError as exc:
        return [*lines, f"Windows Python: MISSING\n  {str(exc).splitlines()[-1]}"]
    found = f"{python.command[-1]} (from {python.origin})"
    if not (paths.wine_prefix() / "system.reg").exists():
        return [*lines, f"Windows Python: {found}, not run: no prefix yet"]
    try:
        bits, python_version = check(Path(python.command[-1]), report=lambda _: None)
    except ProvisionError as exc:
        return [*lines, f"Windows Python: {found} does not run: {exc}"]
    return [*lines, f"Windows Python: {python_version}, {bits}-bit, {found}"]


def _describe_prefix() -> str:
    prefix = paths.wine_prefix()
    state = "exists" if (prefix / "system.reg").exists() else "made on first use"
    return f"{prefix} ({state})"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisionError(
            f"{what} failed (exit code {result.returncode}):\n{result.stderr.strip()}"
        )
