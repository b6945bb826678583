"""The exceptions bitbridge raises itself.

Exceptions raised by user code in the server are re-raised in the client with their
own type (where it can be imported there) and the full remote traceback; the classes
here cover what goes wrong with the bridge itself.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every error raised by bitbridge itself."""


class StartError(BridgeError):
    """The server could not be started; the message names the cause and the fix.

    An exception raised by the bridge's own ``__init__`` in the server is raised as it
    is instead, with the remote traceback."""


class InterpreterNotFound(StartError):
    """No 32-bit Python interpreter was found, or the one named does not exist."""


class LibraryNotFound(StartError):
    """The shared library was not found; the message lists every path tried."""


class WrongArchitecture(StartError):
    """The library was built for another architecture than the server's interpreter."""


class LibraryLoadError(StartError):
    """The library was found but could not be loaded (a missing dependency, say)."""


class ServerImportError(StartError):
    """The module that defines the bridge class failed to import in the server."""


class BridgeClosed(BridgeError):
    """The bridge, or a netref of it, was used after ``close()``, or after Ctrl-C
    interrupted one of its calls (which closes it, since the server's state is then
    unknown)."""


class ServerCrashed(BridgeError):
    """The server process died during or before a call, or before a netref of it was
    used (a crash inside the library)."""


class CallTimeout(BridgeError, TimeoutError):
    """A remote call did not return in time; its server was killed."""


class CopyError(BridgeError, TypeError):
    """A result of a ``@remote32(copy=True)`` method could not be copied to the client."""


def uncopyable(class_name: str, method: str, result: object, cause: Exception) -> str:
    """The message of a [`CopyError`][bitbridge.CopyError]: what could not be copied, and
    what to return instead."""
    return (
        f"the result of {class_name}.{method}() is a {type(result).__name__} that cannot be "
        f"copied to the client ({cause}). Return plain data (numbers, strings, lists, dicts, "
        "ctypes structures without pointers), or drop copy=True to get a reference instead."
    )


class NetError(Exception):
    """A .NET exception raised by a call (``libtype = "net"``), in the server and in the
    client alike. Defined in ``bitbridge.errors``, not with the .NET hosting, so that the
    client rebuilds it without importing server code."""

    def __init__(self, type_name: str, text: str) -> None:
        super().__init__(type_name, text)
        self.type_name: str = type_name
        """The .NET exception's full type name, e.g. ``System.ArgumentException``."""
        self.text: str = text
        """Its ``ToString()``: message and .NET stack trace."""

    def __str__(self) -> str:
        # ToString() of a .NET exception starts with its type name already
        return (
            self.text if self.text.startswith(self.type_name) else f"{self.type_name}: {self.text}"
        )
