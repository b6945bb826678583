""".NET assemblies in the server (``libtype = "net"``): the documented names.

``NetError`` is what a .NET exception raises, in the client too; ``NetObject`` and the
other classes are what ``self.lib`` holds in the server, where they live in
:mod:`bitbridge.server.dotnet` (imported from here on first use, so that the client
never loads server code by importing this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bitbridge.errors import NetError

if TYPE_CHECKING:
    from bitbridge.server.dotnet import (
        NetAssembly,
        NetClass,
        NetNamespace,
        NetObject,
        load_net,
        missing_parts,
        mono_root,
        start_mono,
    )

__all__ = [
    "NetAssembly",
    "NetClass",
    "NetError",
    "NetNamespace",
    "NetObject",
    "load_net",
    "missing_parts",
    "mono_root",
    "start_mono",
]


def __getattr__(name: str) -> Any:
    if name in __all__:  # all but NetError
        from bitbridge.server import dotnet

        return getattr(dotnet, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
