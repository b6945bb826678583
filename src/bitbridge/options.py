"""Settings of a bridge that are not the user's constructor arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class BridgeOptions:
    """How a bridge starts its server.

    ``python32`` names the interpreter that hosts the server (it may also be a 64-bit
    one, to run a crash-prone library out of process); ``start_timeout`` bounds the time
    from spawning the server to a constructed server half, in seconds; ``timeout`` is the
    default limit of each remote call (None: no limit), after which the server is killed.
    ``server32`` names a frozen server executable (or its folder) to use instead of an
    interpreter.
    Calls into the library are serialized unless ``concurrent`` is true: set it only for
    libraries that are thread-safe.
    """

    python32: PathLike | None = None
    server32: PathLike | None = None
    start_timeout: float = 30.0
    timeout: float | None = None
    concurrent: bool = False
