"""A library's own dependencies: a 32-bit libvendor.so linked against libhelper.so with no
rpath, built here with gcc -m32, found in the library's folder, in ``library_dirs`` and in
the user's LD_LIBRARY_PATH, by the provisioned interpreter and by the frozen server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bridges import Vendor
from freezing import one_folder

from bitbridge import LibraryLoadError, server_info
from bitbridge.client.interpreter import provisioned_interpreter
from bitbridge.client.library_path import bridge_folders

HELPER_C = "int helper_twice(int x) { return 2 * x; }\n"
VENDOR_C = (
    "int helper_twice(int x);\n"
    "int vendor_quadruple(int x) { return helper_twice(helper_twice(x)); }\n"
)


def _compile(folder: Path, name: str, source: str, *link: str) -> Path:
    (folder / f"{name}.c").write_text(source)
    output = folder / f"lib{name}.so"
    subprocess.run(
        ["gcc", "-m32", "-shared", "-fPIC", "-o", output.name, f"{name}.c", *link],
        cwd=folder,
        check=True,
    )
    return output


@pytest.fixture(scope="module")
def sdk(tmp_path_factory) -> Path:
    """A folder holding libvendor.so and the libhelper.so it needs, linked with no rpath."""
    folder = tmp_path_factory.mktemp("sdk")
    _compile(folder, "helper", HELPER_C)
    vendor = _compile(folder, "vendor", VENDOR_C, "-L.", "-lhelper")
    dynamic = subprocess.run(
        ["readelf", "-d", str(vendor)], capture_output=True, text=True, check=True
    ).stdout
    assert "Shared library: [libhelper.so]" in dynamic
    assert "RUNPATH" not in dynamic
    assert "RPATH" not in dynamic
    return folder


@pytest.fixture(scope="module")
def split(sdk, tmp_path_factory) -> tuple[Path, Path]:
    """libvendor.so in one folder, the libhelper.so it needs in another."""
    root = tmp_path_factory.mktemp("split")
    (root / "lib").mkdir()
    (root / "deps").mkdir()
    (root / "lib" / "libvendor.so").write_bytes((sdk / "libvendor.so").read_bytes())
    (root / "deps" / "libhelper.so").write_bytes((sdk / "libhelper.so").read_bytes())
    return root / "lib" / "libvendor.so", root / "deps"


@pytest.fixture(params=["provisioned", "frozen"])
def server(request, monkeypatch) -> str:
    """Each test runs on the provisioned interpreter and on the frozen server."""
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    if request.param == "frozen":
        monkeypatch.setenv("BITBRIDGE_SERVER32", str(one_folder()))
    return str(request.param)


@pytest.mark.timeout(600)  # the first frozen test builds the server when it is out of date
def test_a_dependency_in_the_library_folder_is_found_by_default(sdk, server):
    with Vendor.configure(library=sdk / "libvendor")() as vendor:
        assert vendor.quadruple(3) == 12
        assert server_info(vendor).pointer_size == 4


def test_a_missing_dependency_is_named_with_the_folders_searched(split, server):
    vendor_so, _ = split
    with pytest.raises(LibraryLoadError) as raised:
        Vendor.configure(library=vendor_so)()
    message = str(raised.value)
    assert "needs libhelper.so, which was not found" in message
    assert f"  - {vendor_so.parent}\n" in message
    assert "Vendor.configure(library_dirs=" in message


def test_library_dirs_are_searched_for_dependencies(split, server):
    vendor_so, deps = split
    with Vendor.configure(library=vendor_so, library_dirs=[deps])() as vendor:
        assert vendor.quadruple(5) == 20


def test_the_users_ld_library_path_reaches_the_server(split, server, monkeypatch):
    vendor_so, deps = split
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{deps}:/somewhere/else")
    with Vendor.configure(library=vendor_so)() as vendor:
        assert vendor.quadruple(7) == 28
        assert vendor.environment("LD_LIBRARY_PATH").endswith(
            f"{vendor_so.parent}:{deps}:/somewhere/else"
        )


def test_the_provisioned_interpreter_keeps_its_own_folders_first(split, monkeypatch):
    vendor_so, deps = split
    monkeypatch.setenv("LD_LIBRARY_PATH", "/users/own")
    provisioned = provisioned_interpreter()
    assert provisioned is not None
    own = provisioned.command[provisioned.command.index("--library-path") + 1]
    with Vendor.configure(library=vendor_so, library_dirs=[deps])() as vendor:
        command = vendor.command_line()
    searched = command[command.index("--library-path") + 1]
    assert searched == f"{own}:{vendor_so.parent}:{deps}:/users/own"


def test_relative_library_dirs_start_at_the_defining_module(tmp_path):
    folders = bridge_folders("vendor/libvendor", "cdll", tmp_path, ["deps", "/opt/sdk/lib"])
    assert folders == [str(tmp_path / "vendor"), str(tmp_path / "deps"), "/opt/sdk/lib"]
    assert bridge_folders(None, "cdll", tmp_path, []) == []


def test_library_dirs_must_be_a_list_of_folders():
    with pytest.raises(TypeError, match=r"library_dirs=\['/opt/sdk'\]"):
        Vendor.configure(library_dirs="/opt/sdk")
