"""Call a 32-bit shared library from 64-bit Python through one decorated class.

The facade, imported by both halves of a bridge: it imports nothing of ``client/`` or
``server/`` (see docs/pages/architecture.md).
"""

from __future__ import annotations

from bitbridge.bridge import Bridge, ServerInfo, server_info
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

__version__ = "0.1.0"

__all__ = [
    "Bridge",
    "BridgeClosed",
    "BridgeError",
    "BridgeOptions",
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
    "remote32",
    "server_info",
]
