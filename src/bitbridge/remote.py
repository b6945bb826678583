"""The ``@remote32`` decorator: mark a method to run in the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

MARK = "__remote32__"


@dataclass(frozen=True)
class RemoteSpec:
    """How a remote method's result comes back: as rpyc sends it, or as a local copy."""

    copy: bool = False


@overload
def remote32(func: F, /) -> F: ...
@overload
def remote32(*, copy: bool = False) -> Callable[[F], F]: ...
def remote32(func: F | None = None, /, *, copy: bool = False) -> F | Callable[[F], F]:
    """Mark a method of a :class:`~bitbridge.Bridge` subclass to run in the server.

    Its body runs next to the library, where ``self.lib`` is the loaded library.
    Arguments travel by value (callables by reference). The result follows rpyc's rules:
    immutable builtins by value, anything else as a netref; with ``copy=True`` it comes
    back as a deep local copy instead.
    """

    def mark(method: F) -> F:
        if not callable(method):
            raise TypeError(f"@remote32 decorates methods, not {type(method).__name__}")
        setattr(method, MARK, RemoteSpec(copy=copy))
        return method

    return mark if func is None else mark(func)


def remote_spec(obj: Any) -> RemoteSpec | None:
    """Return the spec of a method marked with ``@remote32``, or None."""
    spec = getattr(obj, MARK, None)
    return spec if isinstance(spec, RemoteSpec) else None
