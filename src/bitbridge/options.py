"""Settings of a bridge that are not the user's constructor arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]

#: What ``server_output`` may be: copied to the client's own stdout and stderr, or
#: records of the ``bitbridge.server`` logger.
SERVER_OUTPUTS = ("echo", "log")


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
    ``library`` loads another library than the class's own ``library`` (a 64-bit build
    for ``in_process``, say); ``library_dirs`` are folders searched for the library's own
    dependencies, after the library's folder (relative ones from the defining module's
    folder). ``in_process`` runs the server half in this process, with no server at all
    (the library must then be of this process's bitness).
    ``server_output`` is "echo" (the server's stdout and stderr appear on the client's)
    or "log" (each line becomes a record of the ``bitbridge.server`` logger).
    """

    python32: PathLike | None = None
    server32: PathLike | None = None
    start_timeout: float = 30.0
    timeout: float | None = None
    concurrent: bool = False
    library: PathLike | None = None
    library_dirs: tuple[PathLike, ...] = ()
    in_process: bool = False
    server_output: str = "echo"

    def __post_init__(self) -> None:
        if self.server_output not in SERVER_OUTPUTS:
            raise ValueError(
                f"server_output must be one of {', '.join(map(repr, SERVER_OUTPUTS))}, not "
                f"{self.server_output!r}"
            )
        if isinstance(self.library_dirs, (str, os.PathLike)):
            raise TypeError(
                f"library_dirs is a list of folders, not one folder: write "
                f"library_dirs=[{os.fspath(self.library_dirs)!r}]"
            )
        object.__setattr__(self, "library_dirs", tuple(self.library_dirs))  # a list given
