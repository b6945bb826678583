"""Neither the frozen server nor the provisioned interpreter needs an i386 package of the
system: with every i386 library folder hidden (a private mount namespace with an empty
folder mounted over each), bridges still run on both, the echo example and a C library
built here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from freezing import ROOT, one_file, one_folder

from bitbridge.client.interpreter import provisioned_interpreter

pytestmark = pytest.mark.timeout(600)

#: Where Debian and others keep i386 libraries (multiarch, multilib, and /lib apart
#: from /usr where /usr is not merged).
I386_FOLDERS = ("/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib32", "/usr/lib32")

C_SOURCE = r"""
#include <math.h>
#include <stdio.h>
#include <string.h>
int triple(int x) { return 3 * x; }
/* The C library (snprintf, strlen) and libm (sqrt): what the server must provide. */
int describe(char *out, int size, double x) {
    snprintf(out, size, "sqrt(%g) = %.3f", x, sqrt(x));
    return (int)strlen(out);
}
"""

BRIDGE_SCRIPT = """
import ctypes, json, os, sys
sys.path.insert(0, {echo_folder!r})
from echo import Echo
from bitbridge import Bridge, remote32, server_info

class Standalone(Bridge):
    library = "libstandalone"

    @remote32
    def triple(self, x):
        return self.lib.triple(x)

    @remote32
    def describe(self, x):
        out = ctypes.create_string_buffer(64)
        self.lib.describe.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_double]
        length = self.lib.describe(out, 64, x)
        return out.value[:length].decode()

if __name__ == "__main__":
    seen = {{"loader_visible": os.path.exists("/lib/ld-linux.so.2")}}
    with Echo() as echo:
        seen["pointer_size"] = server_info(echo).pointer_size
        seen["interpreter"] = server_info(echo).interpreter
        seen["echo"] = repr(echo.send_data(1, 2.5, "three", [4, {{5: b"six"}}], seven=None))
    with Standalone() as lib:
        seen["triple"] = lib.triple(14)
        seen["describe"] = lib.describe(2.0)
    print(json.dumps(seen))
"""


def hiding_command(empty: Path) -> list[str]:
    """A command prefix that runs a command with the i386 folders hidden."""
    folders = [f for f in I386_FOLDERS if os.path.isdir(f) and not os.path.islink(f)]
    mounts = "".join(f"mount --bind {empty} {folder} && " for folder in folders)
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-rm"]
    return [*unshare, "sh", "-c", f'{mounts}exec "$@"', "hide-i386"]


@pytest.fixture(scope="module")
def hidden(tmp_path_factory) -> list[str]:
    """The command prefix, checked: a program linked to the system's i386 C library does
    not start under it (so nothing i386 of the system is left to lean on)."""
    work = tmp_path_factory.mktemp("hidden")
    empty = work / "empty"
    empty.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to hide the i386 libraries")
    prefix = hiding_command(empty)
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        reason = f"cannot make a private mount namespace here: {probe.stderr.strip()}"
        if os.geteuid() == 0:  # as root (CI, make fresh-check) it must work: fail, not skip
            pytest.fail(reason)
        pytest.skip(f"{reason} (run as root, or allow unprivileged user namespaces)")
    hello = work / "hello32"
    source = work / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    subprocess.run(["gcc", "-m32", "-o", str(hello), str(source)], check=True)
    assert subprocess.run([str(hello)], capture_output=True, check=False).returncode == 0
    control = subprocess.run([*prefix, str(hello)], capture_output=True, check=False)
    assert control.returncode != 0, "the i386 C library is still visible"
    return prefix


@pytest.fixture(scope="module")
def bridge_script(tmp_path_factory) -> Path:
    """A script with a bridge to a C library built here, next to its library."""
    folder = tmp_path_factory.mktemp("standalone")
    (folder / "standalone.c").write_text(C_SOURCE)
    subprocess.run(
        ["gcc", "-m32", "-shared", "-fPIC", "-O2", "-o", str(folder / "libstandalone.so"),
         str(folder / "standalone.c"), "-lm"],
        check=True,
    )  # fmt: skip
    script = folder / "standalone_bridge.py"
    script.write_text(BRIDGE_SCRIPT.format(echo_folder=str(ROOT / "examples" / "echo")))
    return script


def run_hidden(prefix: list[str], script: Path, **env: str) -> dict[str, object]:
    """Run the bridge script with the i386 folders hidden; return what it saw. The server
    is chosen by ``env`` alone: bitbridge's variables of the test run are dropped."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BITBRIDGE_")}
    result = subprocess.run(
        [*prefix, sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return seen


def check(seen: dict[str, object]) -> None:
    assert seen["loader_visible"] is False
    assert seen["pointer_size"] == 4
    assert seen["echo"] == repr(((1, 2.5, "three", [4, {5: b"six"}]), {"seven": None}))
    assert seen["triple"] == 42
    assert seen["describe"] == "sqrt(2) = 1.414"


def test_the_frozen_server_runs_bridges_with_no_i386_library_of_the_system(
    hidden, bridge_script, tmp_path
):
    seen = run_hidden(hidden, bridge_script, BITBRIDGE_SERVER32=str(one_folder()))
    check(seen)
    assert str(seen["interpreter"]).startswith("frozen server")


def test_the_one_file_frozen_server_runs_with_no_i386_library_either(
    hidden, bridge_script, tmp_path
):
    env = {"BITBRIDGE_SERVER32": str(one_file()), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    check(run_hidden(hidden, bridge_script, **env))
    check(run_hidden(hidden, bridge_script, **env))  # the second start runs the unpacked one
    assert len(list((tmp_path / "cache" / "bitbridge").iterdir())) == 1


def test_the_provisioned_interpreter_runs_bridges_with_no_i386_library_either(
    hidden, bridge_script
):
    assert provisioned_interpreter() is not None, "make test provisions the 32-bit interpreter"
    seen = run_hidden(hidden, bridge_script)
    check(seen)
    assert "provisioned by bitbridge" in str(seen["interpreter"])
