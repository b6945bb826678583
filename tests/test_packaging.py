"""`python -m build` makes an sdist and a wheel that install into a fresh virtual
environment and run the echo example there, against the real 32-bit server."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_wheel_holds_the_server_parts(dist):
    (wheel,) = dist.glob("bitbridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for part in (
        "server/bootstrap.py",
        "server/host.py",
        "py.typed",
        "server/dotnet/bbmono.c",
        "server/dotnet/runtime.py",
    ):
        assert f"bitbridge/{part}" in names


@pytest.mark.parametrize("pattern", ["bitbridge-*.whl", "bitbridge-*.tar.gz"])
@pytest.mark.timeout(300)
def test_installs_into_a_fresh_venv_and_runs_echo(dist, tmp_path, pattern):
    (package,) = dist.glob(pattern)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", package],
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = subprocess.run(
        [python, ROOT / "examples" / "echo" / "echo.py"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 2.5, 'three', [4, {5: b'six'}]) {'seven': None}"
    where = subprocess.run(
        [python, "-c", "import bitbridge; print(bitbridge.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout  # the installed copy ran, not the source tree
