"""What the bridge tells the ``logging`` module (in the client).

bitbridge configures no logging: its loggers have a ``NullHandler``, so nothing is
printed unless the application sets logging up. The loggers:

- ``bitbridge.session``: a server started (DEBUG: interpreter, pid, time to ready),
  closed (DEBUG), restarted (INFO), failed to start, crashed, timed out or was closed by
  Ctrl-C (WARNING; the exception raised says the same to the caller);
- ``bitbridge.server``: with ``server_output="log"``, one record per line the server
  writes, INFO for stdout and WARNING for stderr; each record carries ``stream``
  ("stdout" or "stderr") and ``server_pid``.
"""

from __future__ import annotations

import logging

ROOT = logging.getLogger("bitbridge")
ROOT.addHandler(logging.NullHandler())

#: Start, close, restart and failures of servers.
SESSION = logging.getLogger("bitbridge.session")
#: The server's own output, with ``server_output="log"``.
SERVER_OUTPUT = logging.getLogger("bitbridge.server")

_LEVELS = {"stdout": logging.INFO, "stderr": logging.WARNING}


class LineLogger:
    """Turns the chunks one stream of the server delivers into one record per line."""

    def __init__(self, stream: str, pid: int) -> None:
        self.stream, self.pid = stream, pid
        self.level = _LEVELS[stream]
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        """Log each line ``chunk`` completes; keep the rest for the next chunk."""
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            self._emit(line)

    def flush(self) -> None:
        """Log what is left of a last line without a newline (the stream ended)."""
        if self._partial:
            self._emit(self._partial)
            self._partial = b""

    def _emit(self, line: bytes) -> None:
        SERVER_OUTPUT.log(
            self.level,
            "%s",
            line.rstrip(b"\r").decode(errors="replace"),
            extra={"stream": self.stream, "server_pid": self.pid},
        )
