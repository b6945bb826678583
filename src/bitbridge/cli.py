"""The bitbridge command: doctor, python32, mono32 and wine install|list|remove, server32
build and serve. Runs in the client's environment, from the command line (``bitbridge``
or ``python -m bitbridge``)."""

from __future__ import annotations

import argparse
import ast
import os
import platform
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bitbridge import __version__, paths
from bitbridge.client.interpreter import (
    ENV_VAR,
    SERVER_ENV_VAR,
    find_interpreter,
    frozen_server_info,
    installed_server,
    py_launcher_32bit,
)
from bitbridge.console import ServeError, serve
from bitbridge.errors import BridgeError, InterpreterNotFound
from bitbridge.provision import ProvisionError, mono32, python32, server32
from bitbridge.provision import wine as wine_provision

#: The exit code of a command interrupted by Ctrl-C (128 + SIGINT), as a shell gives.
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        report_error("interrupted")
        return INTERRUPTED
    except (BridgeError, ProvisionError, ServeError, OSError) as exc:
        report_error(str(exc))
        return 1


def _build_server32(args: argparse.Namespace) -> int:
    server32.build(args)
    return 0


def report_error(message: str) -> None:
    """Print an error on stderr: one line ``bitbridge: ...``, then its details (where it
    looked, the server's traceback), if any, indented below it."""
    first, *details = message.strip().splitlines() or ["failed"]
    lines = [f"bitbridge: {first}", *(f"  {line}" if line else "" for line in details)]
    print("\n".join(lines), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the bitbridge command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="bitbridge",
        description="Call a 32-bit shared library from 64-bit Python: check the set-up, "
        "provision a 32-bit Python and Mono, explore a bridge in a console.",
    )
    parser.add_argument("--version", action="version", version=f"bitbridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        parent: Any, name: str, help: str, description: str, run: Callable[..., int] | None
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, help=help, description=description)
        if run is not None:
            sub.set_defaults(run=run)
        return sub

    command(
        commands,
        "doctor",
        "show what a bridge would use, and what is missing",
        "Show the client's Python, where a bridge looks for its server interpreter and "
        "what it finds there, the interpreter it would start (run once to tell its "
        "bitness), and the 32-bit Mono for libtype 'net'. Exits with 1 when no bridge "
        "could start; a missing Mono is reported but only matters for .NET assemblies.",
        lambda args: doctor(),
    )

    def group(name: str, help: str, description: str) -> Any:
        sub = command(commands, name, help, description, None)
        return sub.add_subparsers(dest="action", required=True, metavar="ACTION")

    actions = group(
        "python32",
        "manage the provisioned 32-bit Python",
        "Manage the private 32-bit CPython that hosts the servers, unpacked from "
        f"Debian/Ubuntu's i386 packages into {paths.python32_folder()}.",
    )
    install = command(
        actions,
        "install",
        "provision CPython for i386 from Debian/Ubuntu packages",
        "Download the i386 packages of the distribution's Python with apt-get download and "
        "unpack them with dpkg-deb -x; nothing is installed into the system. As root it "
        "enables apt's i386 architecture first; otherwise it says how.",
        lambda args: _install_python32(args.python_version, args.force),
    )
    install.add_argument(
        "--version",
        dest="python_version",
        help="Python version, e.g. 3.11 (default: the client's own, when the distribution "
        "has it for i386)",
    )
    install.add_argument("--force", action="store_true", help="provision again even if present")
    command(
        actions,
        "list",
        "show the provisioned interpreter",
        "Show the provisioned interpreter and its version; exit with 1 if there is none.",
        lambda args: printed(python32_listing()),
    )
    command(
        actions,
        "remove",
        "remove the provisioned interpreter",
        f"Delete the provisioned interpreter's folder, {paths.python32_folder()}; bridges "
        "then look for an interpreter elsewhere.",
        lambda args: _removed(python32.remove),
    )

    mono_actions = group(
        "mono32",
        "manage the 32-bit Mono for libtype 'net'",
        "Manage the private 32-bit Mono that hosts .NET assemblies (libtype 'net'), in "
        f"{paths.mono_root()}.",
    )
    mono_install = command(
        mono_actions,
        "install",
        "provision Mono for i386 from Debian/Ubuntu packages (needs mono-mcs)",
        "Unpack Debian's i386 Mono runtime, pinned to the version of the class libraries "
        "that apt's mono-mcs installed, and compile bitbridge's helper with gcc -m32.",
        lambda args: _install_mono32(args.force),
    )
    mono_install.add_argument("--force", action="store_true", help="provision again")
    command(
        mono_actions,
        "list",
        "show the provisioned Mono",
        "Show the provisioned Mono, its version and whether any of its parts is missing; "
        "exit with 1 if there is none or it is incomplete.",
        lambda args: printed(mono32_listing()),
    )
    command(
        mono_actions,
        "remove",
        "remove the provisioned Mono",
        f"Delete the provisioned Mono's folder, {paths.mono_root()}; libtype 'net' then "
        "needs `bitbridge mono32 install` again.",
        lambda args: _removed(mono32.remove),
    )

    server32_actions = group(
        "server32",
        "build a frozen 32-bit server",
        "Build a standalone 32-bit server with PyInstaller (see docs/pages/frozen-server.md): "
        "for machines that cannot have a 32-bit Python.",
    )
    server32.add_parser(server32_actions).set_defaults(run=_build_server32)

    wine_actions = group(
        "wine",
        "manage Wine and the 32-bit Windows Python that hosts Windows DLLs",
        "On Linux, a bridge whose library is a Windows DLL runs its server in a 32-bit "
        "Windows Python under Wine. Install Wine (with apt, as root; otherwise the commands "
        f"are printed) and provision that Python into {paths.wine_folder()}.",
    )
    wine_install = command(
        wine_actions,
        "install",
        "install Wine if missing and provision a 32-bit Windows Python",
        f"Provision the Windows Python from {wine_provision.MSL_REQUIREMENT}'s Windows wheel "
        "on PyPI (the default), a wheel downloaded already, or python.org's embeddable zip "
        "for 32-bit Windows (a file or a URL).",
        lambda args: _install_wine(args.from_zip, args.wheel, args.force),
    )
    source = wine_install.add_mutually_exclusive_group()
    source.add_argument(
        "--from-zip",
        metavar="FILE_OR_URL",
        help="python.org's embeddable zip for 32-bit Windows (python-3.X.Y-embed-win32.zip)",
    )
    source.add_argument(
        "--wheel",
        metavar="FILE",
        help=f"{wine_provision.MSL_REQUIREMENT}'s Windows wheel, downloaded already",
    )
    wine_install.add_argument("--force", action="store_true", help="provision again")
    command(
        wine_actions,
        "list",
        "show the provisioned Windows Python and the prefix",
        "Show the provisioned Windows Python and bitbridge's WINEPREFIX; exit with 1 if "
        "there is no Windows Python.",
        lambda args: printed(wine_provision.listing()),
    )
    wine_remove = command(
        wine_actions,
        "remove",
        "remove the provisioned Windows Python",
        "Delete the provisioned Windows Python (and with --prefix bitbridge's WINEPREFIX).",
        lambda args: _removed(lambda: wine_provision.remove(prefix=args.prefix)),
    )
    wine_remove.add_argument(
        "--prefix", action="store_true", help="also remove bitbridge's WINEPREFIX"
    )

    serve = command(
        commands,
        "serve",
        "start a bridge by hand and explore it in an interactive console",
        "Import MODULE_FILE (its main block does not run), start its bridge class CLASS "
        "with the constructor arguments given, and open a Python console with it bound to "
        "`bridge` (Tab completes names). Ctrl-D closes the bridge and the console. Each "
        "value is read as a Python literal (3, 1.5, 'text', [1, 2], None) and as a plain "
        "string when it is not one: --kwarg port=COM3 passes 'COM3'.",
        _serve,
    )
    serve.epilog = "example: bitbridge serve examples/cpp/cpp.py Cpp"
    serve.add_argument(
        "module_file", metavar="MODULE_FILE", help="the .py file that defines the bridge class"
    )
    serve.add_argument("class_name", metavar="CLASS", help="the bridge class to start")
    serve.add_argument(
        "--arg",
        dest="args",
        action="append",
        default=[],
        type=literal,
        metavar="VALUE",
        help="a positional constructor argument (repeat it for more; --arg=-x for a string "
        "that starts with '-')",
    )
    serve.add_argument(
        "--kwarg",
        dest="kwargs",
        action="append",
        default=[],
        type=keyword_argument,
        metavar="NAME=VALUE",
        help="a keyword constructor argument (repeat it for more)",
    )
    serve.add_argument("--python32", help="the interpreter to host the server")
    return parser


def literal(text: str) -> Any:
    """A value of the command line: a Python literal, or else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def keyword_argument(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as the pair (NAME, VALUE read by :func:`literal`)."""
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME a Python name: {text!r}")
    return name, literal(value)


def _serve(args: argparse.Namespace) -> int:
    return serve(args.module_file, args.class_name, args.python32, args.args, dict(args.kwargs))


def _install_python32(version: str | None, force: bool) -> int:
    python32.install(version, force=force)
    return 0


def _install_mono32(force: bool) -> int:
    mono32.install(force=force)
    return 0


def _install_wine(from_zip: str | None, wheel: str | None, force: bool) -> int:
    wine_provision.install(from_zip, wheel, force=force)
    return 0


def _removed(remove: Callable[[], None]) -> int:
    remove()
    return 0


def printed(listing: tuple[list[str], bool]) -> int:
    """Print what a ``list`` command found; return 1 when it found nothing (complete)."""
    lines, found = listing
    print("\n".join(lines))
    return 0 if found else 1


def python32_listing() -> tuple[list[str], bool]:
    """What ``bitbridge python32 list`` prints of the provisioned interpreter, and
    whether there is one."""
    folder = paths.python32_folder()
    details = paths.read_manifest(folder)
    if not details:
        return [f"no 32-bit Python provisioned in {folder}"], False
    return [
        f"Python {details['version']} (i386) in {folder}",
        f"  launcher: {folder / 'python3'}",
        f"  from {len(details['packages'])} Debian packages",
    ], True


def mono_state() -> tuple[str, bool]:
    """Describe the provisioned Mono root in one line; True when it is complete."""
    root = paths.mono_root()
    version = paths.read_manifest(root).get("version")
    if not root.exists():
        return f"MISSING: none in {root} (`bitbridge mono32 install` provisions it)", False
    if missing := paths.missing_mono_parts(root):
        return (
            f"INCOMPLETE: {root} lacks {', '.join(missing)} (`bitbridge mono32 install "
            "--force` provisions it again)",
            False,
        )
    return f"Mono {version or '(version unknown)'} (i386) in {root}", True


def mono32_listing() -> tuple[list[str], bool]:
    """What ``bitbridge mono32 list`` prints of the provisioned Mono, and whether it is
    there and complete."""
    state, complete = mono_state()
    return [state], complete


def doctor() -> int:
    """Print what a bridge would use and what is missing; return 1 if it cannot start."""
    print(f"bitbridge {__version__}")
    bits = struct.calcsize("P") * 8
    print(f"client: Python {platform.python_version()}, {bits}-bit, {sys.executable}")
    print("a bridge looks, in order, at:")
    print(f"  ${SERVER_ENV_VAR}: {os.environ.get(SERVER_ENV_VAR) or '(not set)'}")
    print(f"  ${ENV_VAR}: {os.environ.get(ENV_VAR) or '(not set)'}")
    folder = paths.python32_folder()
    version = paths.read_manifest(folder).get("version")
    provisioned = f"Python {version} in {folder}" if version else f"none in {folder}"
    print(f"  provisioned Python: {provisioned}")
    if sys.platform == "win32":
        launcher = py_launcher_32bit()
        print(f"  the py launcher's 32-bit Pythons: {launcher.command[0] if launcher else 'none'}")
    installed = "in" if installed_server() else "none in"
    print(f"  installed frozen server: {installed} {paths.server32_folder()}")
    usable = _report_server_interpreter()
    mono, _ = mono_state()
    print(f"Mono, for libtype 'net' only: {mono}")
    for line in wine_provision.doctor_lines():  # Windows DLLs on Linux only
        print(line)
    return 0 if usable else 1


def _report_server_interpreter() -> bool:
    try:
        interpreter = find_interpreter()
    except InterpreterNotFound as exc:
        print(f"server interpreter: MISSING\n{exc}")
        return False
    try:
        if interpreter.frozen:
            server_bits = 8 * int(frozen_server_info(interpreter)["pointer_size"])
        else:
            server_bits = python32.check(list(interpreter.command))
    except (ProvisionError, OSError) as exc:
        print(f"server interpreter: {interpreter.describe()} does not run: {exc}")
        return False
    print(f"server interpreter: {interpreter.describe()}, {server_bits}-bit")
    if server_bits != 32:
        print("  note: this is not a 32-bit interpreter; it can host 64-bit libraries only")
    return True


if __name__ == "__main__":
    sys.exit(main())
