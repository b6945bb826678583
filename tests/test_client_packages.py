"""The server imports pure-Python modules it lacks from the client's environment, last,
and refuses compiled ones with a clear error (server/client_packages.py).

The bridge class is defined in this test file, which imports pytest: the server imports
this file, so pytest itself must import there."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bitbridge import Bridge, remote32


class Importer(Bridge):
    libtype = None

    @remote32(copy=True)
    def origin(self, name: str) -> str | None:
        """Import ``name``; return its file (None for a namespace package)."""
        return getattr(importlib.import_module(name), "__file__", None)

    @remote32(copy=True)
    def paths_of(self, name: str) -> list[str]:
        return list(importlib.import_module(name).__path__)

    @remote32(copy=True)
    def version(self, name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    @remote32(copy=True)
    def sys_path(self) -> list[str]:
        return sys.path

    @remote32(copy=True)
    def uses_pytest(self) -> Any:
        return pytest.approx(1.0) == 1.0 + 1e-9, pytest.__file__


@pytest.fixture
def importer():
    with Importer() as bridge:
        yield bridge


def test_a_bridge_in_a_test_file_that_imports_pytest_starts(importer):
    matched, where = importer.uses_pytest()
    assert matched is True
    assert where == pytest.__file__  # the client's own pytest, pure Python


def test_a_compiled_package_is_refused_with_the_reason_and_the_fix(importer):
    import numpy

    client_copy = os.path.dirname(numpy.__file__)
    with pytest.raises(ModuleNotFoundError) as raised:
        importer.origin("numpy")
    message = str(raised.value)
    assert "cannot import 'numpy' in the server: the server's interpreter lacks it" in message
    assert f"the client's copy ({client_copy}) holds compiled code ({client_copy}" in message
    assert ".so" in message
    assert "Install a 32-bit build of 'numpy' where the server's interpreter finds it" in message
    assert "frozen server" in message
    assert raised.value.name == "numpy"


def test_the_servers_own_modules_win_and_client_only_ones_are_found(monkeypatch, tmp_path):
    (tmp_path / "colorsys.py").write_text("raise AssertionError('the client copy ran')\n")
    (tmp_path / "only_in_the_client.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with Importer() as importer:
        server_colorsys = importer.origin("colorsys")
        assert Path(server_colorsys).parent != tmp_path  # the server's standard library
        assert "python32" in server_colorsys
        assert importer.origin("only_in_the_client") == str(tmp_path / "only_in_the_client.py")
        assert str(tmp_path) not in importer.sys_path()  # a fallback, not the server's path


def test_extension_modules_and_packages_holding_one_are_refused(monkeypatch, tmp_path):
    (tmp_path / "speedy.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    package = tmp_path / "mostly_pure"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "_accel.abi3.so").write_bytes(b"\x7fELF")
    monkeypatch.syspath_prepend(str(tmp_path))
    with Importer() as importer:
        with pytest.raises(ModuleNotFoundError, match=r"'speedy'.*speedy\.cpython-311-x86_64"):
            importer.origin("speedy")
        with pytest.raises(ModuleNotFoundError, match=r"'mostly_pure'.*sub/_accel\.abi3\.so"):
            importer.origin("mostly_pure")


def test_a_namespace_package_spans_the_clients_folders(monkeypatch, tmp_path):
    for part in ("one", "two"):
        (tmp_path / part / "spread" / part).mkdir(parents=True)
        (tmp_path / part / "spread" / part / "__init__.py").write_text(f"NAME = {part!r}\n")
        monkeypatch.syspath_prepend(str(tmp_path / part))
    with Importer() as importer:
        assert importer.origin("spread") is None
        assert sorted(importer.paths_of("spread")) == [
            str(tmp_path / "one" / "spread"),
            str(tmp_path / "two" / "spread"),
        ]
        assert importer.origin("spread.two") == str(
            tmp_path / "two" / "spread" / "two" / "__init__.py"
        )


def test_metadata_shows_the_pure_distributions_only(importer):
    assert importer.version("pytest") == importlib.metadata.version("pytest")
    assert importlib.metadata.version("numpy")  # in the client ...
    assert importer.version("numpy") is None  # ... but not importable in the server
