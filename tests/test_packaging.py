"""`python -m build` makes an sdist and a wheel that install into a fresh virtual
environment and run the echo example there, against the real 32-bit server; the wheel's
`bitbridge server32 build` freezes a server that bridges run on; the metadata is complete
and the version is written once."""

from __future__ import annotations

import email
import os
import re
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


def install_into_a_fresh_venv(package: Path, folder: Path) -> Path:
    """A new virtual environment with ``package`` installed; return its Python."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", package],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


def test_the_metadata_names_license_urls_classifiers_and_one_version(dist):
    (wheel,) = dist.glob("bitbridge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(name))
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    import bitbridge

    assert metadata["Version"] == bitbridge.__version__
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert re.search(r"^version\s*=", pyproject, re.MULTILINE) is None
    assert metadata["License-Expression"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Issues", "Changelog"} <= set(urls)
    classifiers = metadata.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert "Development Status :: 3 - Alpha" in classifiers
    assert "Intended Audience :: Science/Research" in classifiers


def test_the_readme_has_no_link_that_breaks_on_pypi():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets
    assert [t for t in targets if not t.startswith(("https://", "#"))] == []


@pytest.mark.parametrize("pattern", ["bitbridge-*.whl", "bitbridge-*.tar.gz"])
@pytest.mark.timeout(300)
def test_installs_into_a_fresh_venv_and_runs_echo(dist, tmp_path, pattern):
    (package,) = dist.glob(pattern)
    python = install_into_a_fresh_venv(package, tmp_path)
    venv = python.parent.parent
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


FROZEN_ECHO = """
import sys
sys.path.insert(0, sys.argv[1])
from echo import Echo
from bitbridge import server_info
with Echo() as echo:
    info = server_info(echo)
    print(info.pointer_size, info.executable, echo.send_data(1, b"two"))
"""


@pytest.mark.timeout(600)
def test_the_wheels_server32_build_freezes_a_server_that_bridges_run_on(dist, tmp_path):
    (wheel,) = dist.glob("bitbridge-*.whl")
    python = install_into_a_fresh_venv(wheel, tmp_path)
    work = tmp_path / "elsewhere"  # no repository around: what a pip user has
    work.mkdir()
    built = subprocess.run(
        [python.with_name("bitbridge"), "server32", "build", "--dist", "server32"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    server = Path(built.stdout.strip().splitlines()[-1])
    assert server == work / "server32" / "bitbridge-server32"
    assert (work / "build" / "freeze" / "site").is_dir()  # the work folder is the user's too
    script = tmp_path / "frozen_echo.py"
    script.write_text(FROZEN_ECHO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITBRIDGE_")}
    ran = subprocess.run(
        [python, script, ROOT / "examples" / "echo"],
        env={**env, "BITBRIDGE_SERVER32": str(server)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["4", str(server), "((1,", "b'two'),", "{})"]
