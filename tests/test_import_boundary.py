"""Each half of a bridge imports only its own modules and the shared ones: the server
never loads ``bitbridge.client``, ``bitbridge.provision`` or the command line, the client
never loads ``bitbridge.server`` (see docs/pages/architecture.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from freezing import ROOT, one_folder

from bitbridge import Bridge, remote32
from bitbridge.paths import CLIENT_ONLY

SERVER_ONLY = ("bitbridge.server",)


def below(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of ``packages`` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


class Modules(Bridge):
    libtype = None

    @remote32(copy=True)
    def loaded(self) -> list[str]:
        return sorted(name for name in sys.modules if name.startswith("bitbridge"))


def test_the_server_imports_no_client_module():
    with Modules() as bridge:
        loaded = bridge.loaded()
    assert "bitbridge.server.host" in loaded
    assert below(loaded, CLIENT_ONLY) == []


def test_the_server_of_a_library_and_of_an_assembly_import_no_client_module(cpp, dotnet):
    # The example bridges load a C++ library and a .NET assembly (Mono) in their server.
    for bridge in (cpp, dotnet):
        loaded = _server_modules(bridge)
        assert "bitbridge.server.library" in loaded
        assert below(loaded, CLIENT_ONLY) == []
    assert "bitbridge.server.dotnet.runtime" in _server_modules(dotnet)


def _server_modules(bridge: Bridge) -> list[str]:
    """The server's bitbridge modules, read through the bridge's connection."""
    sys_module = bridge.__dict__["_bitbridge_session"].conn.modules.sys
    return sorted(name for name in list(sys_module.modules) if name.startswith("bitbridge"))


def test_the_server_under_wine_imports_no_client_module():
    from cpp import CppWindows

    with CppWindows() as bridge:
        loaded = _server_modules(bridge)
    assert "bitbridge.server.wine" in loaded
    assert below(loaded, CLIENT_ONLY) == []


def test_the_frozen_server_imports_no_client_module(monkeypatch, tmp_path):
    monkeypatch.setenv("BITBRIDGE_SERVER32", str(one_folder()))
    with Modules() as bridge:
        loaded = bridge.loaded()
    assert "bitbridge.server.host" in loaded
    assert below(loaded, CLIENT_ONLY) == []


CLIENT_SCRIPT = """
import json, sys
sys.path[:0] = {paths!r}
import bitbridge
after_import = sorted(m for m in sys.modules if m.startswith("bitbridge"))
from bitbridge.dotnet import NetError
from cpp import Cpp
from dotnet import DotNet
with Cpp() as cpp:
    cpp.add(1, 2)
    cpp.scalar_multiply(2.0, [1.0, 2.0])
    cpp.run_with_progress(2, lambda done, total: None)
with Cpp.configure(in_process=True, library="cpp_lib64")() as cpp64:
    cpp64.scalar_multiply(2.0, [1.0, 2.0])
with DotNet() as net:
    try:
        net.reverse_string(None)
    except NetError:
        pass
    else:
        raise AssertionError("no NetError")
print(json.dumps({{
    "after_import": after_import,
    "during": sorted(m for m in sys.modules if m.startswith("bitbridge")),
}}))
"""


def test_the_client_imports_no_server_module():
    # A fresh process: this one imported everything for the other tests.
    folders = [str(ROOT / "examples" / name) for name in ("cpp", "dotnet")]
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CLIENT_SCRIPT.format(paths=folders))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert below(seen["after_import"], CLIENT_ONLY + SERVER_ONLY) == []
    assert "bitbridge.client.session" in seen["during"]
    assert "bitbridge.client.inprocess" in seen["during"]
    assert below(seen["during"], SERVER_ONLY) == []


def test_every_subpackage_says_which_process_runs_it():
    package = ROOT / "src" / "bitbridge"
    for init in sorted(package.glob("*/__init__.py")):
        docstring = init.read_text(encoding="utf-8").split('"""')[1].lower()
        assert any(word in docstring for word in ("client", "server", "both", "command line")), (
            Path(init).parent.name
        )
