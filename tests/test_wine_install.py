"""``bitbridge wine install|list|remove``: the Windows Python from msl-loadlib's wheel on
PyPI, or from an embeddable zip (a file or a URL), each into a home folder of its own.

python.org is out of reach here, so the zip of these tests is one made from the folder
that the wheel gives: the embeddable zip's layout (python.exe, python3XY.dll and .zip,
python3XY._pth, the extension modules). The zip path is tested with it; python.org's own
zip is not.
"""

from __future__ import annotations

import functools
import http.server
import struct
import threading
import zipfile
from pathlib import Path

import pytest
from bridges import Recorder

from bitbridge import paths, server_info
from bitbridge.cli import main
from bitbridge.client import wine


@pytest.fixture(scope="module")
def wheel_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder provisioned by `bitbridge wine install` (from PyPI)."""
    home = tmp_path_factory.mktemp("wheel-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BITBRIDGE_HOME", str(home))
        assert main(["wine", "install"]) == 0
    return home


@pytest.fixture(scope="module")
def embeddable_zip(wheel_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = wheel_home / "wine" / "python"
    archive = tmp_path_factory.mktemp("zip") / "python-3.14.6-embed-win32.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in sorted(folder.iterdir()):
            if file.name != paths.MANIFEST:
                zipped.write(file, file.name)
    return archive


def test_install_from_the_msl_loadlib_wheel(wheel_home, monkeypatch, capsys):
    monkeypatch.setenv("BITBRIDGE_HOME", str(wheel_home))
    capsys.readouterr()
    assert main(["wine", "install"]) == 0  # again: nothing to do
    assert "already provisioned" in capsys.readouterr().out
    assert main(["wine", "list"]) == 0
    out = capsys.readouterr().out
    assert "Windows Python 3.14.6 (32-bit)" in out
    assert "msl-loadlib==1.1.0" in out
    python = wheel_home / "wine" / "python" / "python.exe"
    assert wine.pe_machine(python) == "i386"
    assert sorted(p.name for p in python.parent.glob("python314*")) == [
        "python314._pth",
        "python314.dll",
        "python314.zip",
    ]


def test_install_from_an_embeddable_zip_file_hosts_bridges(embeddable_zip, monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["wine", "install", "--from-zip", str(embeddable_zip)]) == 0
    python = tmp_path / "wine" / "python" / "python.exe"
    assert paths.read_manifest(python.parent)["source"] == str(embeddable_zip)
    with Recorder.configure(python32=python)() as recorder:  # no .exe of the wheel's
        assert server_info(recorder).executable == wine.winpath(python)
        assert recorder.pointer_size() == 4


def test_install_from_an_embeddable_zip_url(embeddable_zip, monkeypatch, tmp_path, capsys):
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(embeddable_zip.parent)
    )
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{web.server_address[1]}/{embeddable_zip.name}"
        monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
        try:
            assert main(["wine", "install", "--from-zip", url]) == 0
        finally:
            web.shutdown()
    assert f"downloading {url}" in capsys.readouterr().out
    assert wine.provisioned_windows_python() == tmp_path / "wine" / "python" / "python.exe"
    assert main(["wine", "remove"]) == 0
    assert wine.provisioned_windows_python() is None
    assert main(["wine", "list"]) == 1


def fake_python_exe(machine: int) -> bytes:
    """The first bytes of a Windows program for ``machine``: what the check reads."""
    header = bytearray(256)
    header[:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, 0x80)
    header[0x80:0x86] = b"PE\0\0" + struct.pack("<H", machine)
    return bytes(header)


@pytest.mark.parametrize(
    ("contents", "said"),
    [
        ({"python.exe": fake_python_exe(0x8664)}, "a python.exe for x86-64"),
        ({"readme.txt": b"hello"}, "no python.exe"),
    ],
    ids=["64-bit", "not-python"],
)
def test_a_zip_that_is_not_a_32_bit_python_is_refused(
    contents, said, monkeypatch, tmp_path, capsys
):
    archive = tmp_path / "python-embed.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in contents.items():
            zipped.writestr(name, data)
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    assert main(["wine", "install", "--from-zip", str(archive)]) == 1
    error = capsys.readouterr().err
    assert said in error
    assert "python-3.X.Y-embed-win32.zip" in error
    assert wine.provisioned_windows_python() is None


def test_doctor_reports_wine_the_prefix_and_the_windows_python(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Wine: wine-" in out
    assert f"Wine prefix: {paths.wine_prefix()} (exists)" in out
    assert f"Windows Python: 3.14.6, 32-bit, {wine.provisioned_windows_python()} (from " in out


def test_doctor_names_the_fix_when_the_windows_python_is_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BITBRIDGE_HOME", str(tmp_path))
    main(["doctor"])
    out = capsys.readouterr().out
    assert "Windows Python: MISSING" in out
    assert "bitbridge wine install" in out


def test_missing_wine_packages_are_named_with_the_commands_to_run(monkeypatch):
    from bitbridge.provision import ProvisionError
    from bitbridge.provision import wine as wine_provision

    assert wine_provision._missing_packages(["wine", "bitbridge-no-such-package"]) == [
        "bitbridge-no-such-package"
    ]
    monkeypatch.setattr("os.geteuid", lambda: 1000)  # not root: nothing is installed
    with pytest.raises(ProvisionError) as raised:
        wine_provision._apt_install(["wine", "wine32:i386"], "Wine", print)
    message = str(raised.value)
    assert "dpkg --add-architecture i386 && apt-get update" in message
    assert "apt-get install --no-install-recommends wine wine32:i386" in message
