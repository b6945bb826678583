"""Starting a bridge's server, in the client: what hosts it, the check that both halves
run one release, and the error to raise when the start fails."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

from rpyc.core.async_ import AsyncResultTimeout

from bitbridge import __version__, errors
from bitbridge.client import wine
from bitbridge.client.interpreter import Interpreter, find_interpreter
from bitbridge.client.process import ServerProcess
from bitbridge.client.wine_process import WineServerProcess
from bitbridge.options import BridgeOptions
from bitbridge.wire import transport

#: Raised by rpyc when the other end of the socket is gone.
CONNECTION_LOST = (EOFError, ConnectionError, BrokenPipeError)


def server_for(
    cls: type, options: BridgeOptions, near: Path
) -> tuple[Interpreter, type[ServerProcess]]:
    """Return what hosts the server of ``cls`` and the kind of process it runs in: a
    Windows Python under Wine for a Windows DLL on Linux, else a 32-bit interpreter. The
    library is the ``library`` option's, if given, else the class's."""
    library = options.library if options.library is not None else getattr(cls, "library", None)
    libtype = getattr(cls, "libtype", None)
    if sys.platform != "win32" and wine.needs_wine(
        library, libtype, near, options.python32, options.server32
    ):
        return wine.find_windows_python(options.python32), WineServerProcess
    return find_interpreter(options.python32, options.server32), ServerProcess


def check_version(conn: transport.BridgeConnection, interpreter: Interpreter) -> None:
    """Fail when the server runs another bitbridge than the client (a frozen server built
    by an older release, say): asked first, in a way every release answers."""
    theirs = conn.modules["bitbridge"].__version__
    if theirs == __version__:
        return
    fix = (
        "Rebuild the frozen server with this bitbridge (`bitbridge server32 build`)."
        if interpreter.frozen
        else "Let the server use the client's own bitbridge (do not put another on its path)."
    )
    raise errors.StartError(
        f"the server runs bitbridge {theirs}, the client bitbridge {__version__}; both "
        f"halves of a bridge must run the same release. {fix}"
    )


def _local_class(exc: errors.StartError) -> type[errors.StartError]:
    """Return the bitbridge class of ``exc`` (rpyc wraps remote ones in a subclass)."""
    for cls in type(exc).__mro__:
        if vars(errors).get(cls.__name__) is cls and issubclass(cls, errors.StartError):
            return cast("type[errors.StartError]", cls)
    return errors.StartError


def start_error(
    exc: BaseException,
    process: ServerProcess,
    class_name: str,
    interpreter: Interpreter,
    options: BridgeOptions,
) -> BaseException:
    """The error to raise for ``exc``, raised while the server of ``class_name`` started:
    the user's own exception (from their ``__init__``) as it is, bitbridge's as a
    StartError naming the interpreter and ending with the server's stderr."""
    if isinstance(exc, KeyboardInterrupt):
        return exc
    where = f"\nInterpreter: {interpreter.describe()}, server pid {process.pid}"
    stderr = process.stderr_tail().strip()
    if stderr:
        where += f"\nServer stderr:\n{stderr}"
    if isinstance(exc, errors.StartError):
        return _local_class(exc)(f"{exc.args[0] if exc.args else exc}{where}")
    if hasattr(exc, "_remote_tb"):
        # Raised in the server by the user's code (their __init__, or unpickling their
        # arguments): bitbridge's own steps raise StartErrors. It keeps its type and
        # the remote traceback, as an exception of a method call does.
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(
                f"(raised while starting the {class_name} server, pid "
                f"{process.pid}, which was stopped)"
            )
        return exc
    if isinstance(exc, AsyncResultTimeout):
        return errors.StartError(
            f"the server did not become ready within {options.start_timeout} s and was "
            f"killed (a module import that hangs?).{where}"
        )
    if isinstance(exc, CONNECTION_LOST):
        status = process.exit_status(wait=2.0) or "connection lost"
        return errors.StartError(
            f"the server exited before it was ready ({status}). Is this a Python 3 "
            f"interpreter that can run bitbridge's bootstrap?{where}"
        )
    return errors.StartError(f"the server failed to start: {exc!r}{where}")
