"""The bitbridge command: doctor, python32 install|list|remove, mono32 install|remove
and serve."""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import sys
from collections.abc import Sequence

from bitbridge import __version__, provision
from bitbridge.errors import InterpreterNotFound
from bitbridge.interpreter import (
    ENV_VAR,
    MANIFEST,
    SERVER_ENV_VAR,
    find_interpreter,
    frozen_server_info,
    installed_server,
    installed_server_folder,
    provisioned_folder,
    provisioned_interpreter,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(prog="bitbridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bitbridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "doctor", help="show which interpreter a bridge would use, and what is missing"
    )
    python32 = commands.add_parser("python32", help="manage the provisioned 32-bit Python")
    actions = python32.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install", help="provision CPython for i386 from Debian/Ubuntu packages"
    )
    install.add_argument("--version", dest="python_version", help="Python version, e.g. 3.11")
    install.add_argument("--force", action="store_true", help="provision again even if present")
    actions.add_parser("list", help="show the provisioned interpreter")
    actions.add_parser("remove", help="remove the provisioned interpreter")
    mono32 = commands.add_parser("mono32", help="manage the 32-bit Mono for libtype 'net'")
    mono_actions = mono32.add_subparsers(dest="action", required=True)
    mono_install = mono_actions.add_parser(
        "install", help="provision Mono for i386 from Debian/Ubuntu packages (needs mono-mcs)"
    )
    mono_install.add_argument("--force", action="store_true", help="provision again")
    mono_actions.add_parser("remove", help="remove the provisioned Mono")
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
            from bitbridge.serve import serve as serve_bridge

            return serve_bridge(args.module_file, args.class_name, args.python32)
        if args.command == "mono32":
            from bitbridge import provision_mono

            if args.action == "install":
                provision_mono.install(force=args.force)
            else:
                provision_mono.remove()
            return 0
        if args.action == "install":
            provision.install(args.python_version, force=args.force)
        elif args.action == "list":
            return list_provisioned()
        else:
            provision.remove()
    except provision.ProvisionError as exc:
        print(f"bitbridge: {exc}", file=sys.stderr)
        return 1
    return 0


def list_provisioned() -> int:
    """Print the provisioned interpreter, if any."""
    manifest = provisioned_folder() / MANIFEST
    if not manifest.exists():
        print(f"no 32-bit Python provisioned in {provisioned_folder()}")
        return 1
    details = json.loads(manifest.read_text(encoding="utf-8"))
    print(f"Python {details['version']} (i386) in {provisioned_folder()}")
    print(f"  launcher: {provisioned_folder() / 'python3'}")
    print(f"  from {len(details['packages'])} Debian packages")
    return 0


def doctor() -> int:
    """Print what a bridge would use and what is missing; return 1 if it cannot start."""
    print(f"bitbridge {__version__}")
    bits = struct.calcsize("P") * 8
    print(f"client: Python {platform.python_version()}, {bits}-bit, {sys.executable}")
    print(f"${ENV_VAR}: {os.environ.get(ENV_VAR) or '(not set)'}")
    provisioned = provisioned_interpreter()
    found = provisioned.describe() if provisioned else f"none in {provisioned_folder()}"
    print(f"provisioned: {found}")
    print(f"${SERVER_ENV_VAR}: {os.environ.get(SERVER_ENV_VAR) or '(not set)'}")
    installed = installed_server()
    frozen = installed.command[0] if installed else f"none in {installed_server_folder()}"
    print(f"installed frozen server: {frozen}")
    try:
        interpreter = find_interpreter()
    except InterpreterNotFound as exc:
        print(f"server interpreter: MISSING\n{exc}")
        return 1
    try:
        if interpreter.frozen:
            server_bits = 8 * int(frozen_server_info(interpreter)["pointer_size"])
        else:
            server_bits = provision.check(list(interpreter.command))
    except (provision.ProvisionError, OSError) as exc:
        print(f"server interpreter: {interpreter.describe()} does not run: {exc}")
        return 1
    print(f"server interpreter: {interpreter.describe()}, {server_bits}-bit")
    if server_bits != 32:
        print("  note: this is not a 32-bit interpreter; it can host 64-bit libraries only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
