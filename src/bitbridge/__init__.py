"""Call a 32-bit shared library from 64-bit Python through one decorated class.

The facade, imported by both halves of a bridge: it imports nothing of ``client/`` or
``server/`` (see docs/pages/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bitbridge.bridge import Bridge, ServerInfo, flush_events, server_info
from bitbridge.callbacks import c_callback
from bitbridge.errors import (
    BridgeClosed,
    BridgeError,
    CallTimeout,
    CopyError,
    InterpreterNotFound,
    LibraryLoadError,
    LibraryNotFound,
    ServerCrashed,
    ServerImportError,
    StartError,
    WrongArchitecture,
)
from bitbridge.options import BridgeOptions
from bitbridge.remote import remote32

if TYPE_CHECKING:
    from bitbridge.client.pool import BridgePool

__version__ = "0.1.0"

__all__ = [
    "Bridge",
    "BridgeClosed",
    "BridgeError",
    "BridgeOptions",
    "BridgePool",
    "CallTimeout",
    "CopyError",
    "InterpreterNotFound",
    "LibraryLoadError",
    "LibraryNotFound",
    "ServerCrashed",
    "ServerImportError",
    "ServerInfo",
    "StartError",
    "WrongArchitecture",
    "__version__",
    "c_callback",
    "flush_events",
    "remote32",
    "server_info",
]


def __getattr__(name: str) -> Any:
    # BridgePool runs in the client only: imported on first use, so that the server,
    # which imports this facade too, never loads bitbridge.client.
    if name == "BridgePool":
        from bitbridge.client.pool import BridgePool

        return BridgePool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
