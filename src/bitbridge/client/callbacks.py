"""Calls from the server into the client: a client callable (a callback) that code in the
server calls through its netref.

The server packs the arguments by value in one message (``wire.payload.dumps_callback``,
sent as ``wire.transport.HANDLE_CALLBACK``); :func:`invoke` serves that request in the
client: it rebuilds them and calls the function. Its result goes back by rpyc's rules.
"""

from __future__ import annotations

from typing import Any

from bitbridge.wire import payload


def invoke(function: Any, arguments: bytes, refs: tuple[Any, ...]) -> Any:
    """Call ``function`` with the arguments the server packed; return its result."""
    args, kwargs = payload.loads(arguments, refs)
    return function(*args, **kwargs)
