"""The bitbridge command: doctor, python32 install|list|remove, mono32 install|remove,
wine install|list|remove and serve. Runs in the client's environment, from the command
line."""

from __future__ import annotations

import argparse
import os
import platform
import struct
import sys
from collections.abc import Sequence

from bitbridge import __version__, paths
from bitbridge.client.interpreter import (
    ENV_VAR,
    SERVER_ENV_VAR,
    find_interpreter,
    frozen_server_info,
    installed_server,
    provisioned_interpreter,
)
from bitbridge.errors import InterpreterNotFound
from bitbridge.provision import ProvisionError, python32
from bitbridge.provision import wine as wine_provision


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(prog="bitbridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bitbridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "doctor", help="show which interpreter a bridge would use, and what is missing"
    )
    python32_parser = commands.add_parser("python32", help="manage the provisioned 32-bit Python")
    actions = python32_parser.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install", help="provision CPython for i386 from Debian/Ubuntu packages"
    )
    install.add_argument("--version", dest="python_version", help="Python version, e.g. 3.11")
    install.add_argument("--force", action="store_true", help="provision again even if present")
    actions.add_parser("list", help="show the provisioned interpreter")
    actions.add_parser("remove", help="remove the provisioned interpreter")
    mono32_parser = commands.add_parser("mono32", help="manage the 32-bit Mono for libtype 'net'")
    mono_actions = mono32_parser.add_subparsers(dest="action", required=True)
    mono_install = mono_actions.add_parser(
        "install", help="provision Mono for i386 from Debian/Ubuntu packages (needs mono-mcs)"
    )
    mono_install.add_argument("--force", action="store_true", help="provision again")
    mono_actions.add_parser("remove", help="remove the provisioned Mono")
    wine_provision.add_parser(commands)
    serve = commands.add_parser(
        "serve", help="start a bridge by hand and explore it in an interactive console"
    )
    serve.add_argument("module_file", help="the .py file that defines the bridge class")
    serve.add_argument("class_name", help="the bridge class to start")
    serve.add_argument("--python32", help="the interpreter to host the server")
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return doctor()
        if args.command == "serve":
            from bitbridge.console import serve as serve_bridge

            return serve_bridge(args.module_file, args.class_name, args.python32)
        if args.command == "wine":
            return wine_provision.main(args)
        if args.command == "mono32":
            from bitbridge.provision import mono32

            if args.action == "install":
                mono32.install(force=args.force)
            else:
                mono32.remove()
            return 0
        if args.action == "install":
            python32.install(args.python_version, force=args.force)
        elif args.action == "list":
            return list_provisioned()
        else:
            python32.remove()
    except ProvisionError as exc:
        print(f"bitbridge: {exc}", file=sys.stderr)
        return 1
    return 0


def list_provisioned() -> int:
    """Print the provisioned interpreter, if any."""
    folder = paths.python32_folder()
    details = paths.read_manifest(folder)
    if not details:
        print(f"no 32-bit Python provisioned in {folder}")
        return 1
    print(f"Python {details['version']} (i386) in {folder}")
    print(f"  launcher: {folder / 'python3'}")
    print(f"  from {len(details['packages'])} Debian packages")
    return 0


def doctor() -> int:
    """Print what a bridge would use and what is missing; return 1 if it cannot start."""
    print(f"bitbridge {__version__}")
    bits = struct.calcsize("P") * 8
    print(f"client: Python {platform.python_version()}, {bits}-bit, {sys.executable}")
    print(f"${ENV_VAR}: {os.environ.get(ENV_VAR) or '(not set)'}")
    provisioned = provisioned_interpreter()
    found = provisioned.describe() if provisioned else f"none in {paths.python32_folder()}"
    print(f"provisioned: {found}")
    print(f"${SERVER_ENV_VAR}: {os.environ.get(SERVER_ENV_VAR) or '(not set)'}")
    installed = installed_server()
    frozen = installed.command[0] if installed else f"none in {paths.server32_folder()}"
    print(f"installed frozen server: {frozen}")
    doctor_wine()
    try:
        interpreter = find_interpreter()
    except InterpreterNotFound as exc:
        print(f"server interpreter: MISSING\n{exc}")
        return 1
    try:
        if interpreter.frozen:
            server_bits = 8 * int(frozen_server_info(interpreter)["pointer_size"])
        else:
            server_bits = python32.check(list(interpreter.command))
    except (ProvisionError, OSError) as exc:
        print(f"server interpreter: {interpreter.describe()} does not run: {exc}")
        return 1
    print(f"server interpreter: {interpreter.describe()}, {server_bits}-bit")
    if server_bits != 32:
        print("  note: this is not a 32-bit interpreter; it can host 64-bit libraries only")
    return 0


def doctor_wine() -> None:
    """Print what a Windows DLL's bridge would use: Wine, its prefix, the Windows Python."""
    for line in wine_provision.doctor_lines():
        print(line)


if __name__ == "__main__":
    sys.exit(main())
