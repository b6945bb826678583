"""The ``@remote32`` decorator: mark a method to run in the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

MARK = "__remote32__"


@dataclass(frozen=True)
class RemoteSpec:
    """How a remote method is called: its result as rpyc sends it or as a local copy, and
    its time limit in seconds (None: the bridge's default)."""

    copy: bool = False
    timeout: float | None = None


@overload
def remote32(func: F, /) -> F: ...
@overload
def remote32(*, copy: bool = False, timeout: float | None = None) -> Callable[[F], F]: ...
def remote32(
    func: F | None = None, /, *, copy: bool = False, timeout: float | None = None
) -> F | Callable[[F], F]:
    """Mark a method of a [`Bridge`][bitbridge.Bridge] subclass to run in the server.

    Its body runs next to the library, where ``self.lib`` is the loaded library.
    Arguments travel by value (callables by reference). The result follows rpyc's rules:
    immutable builtins by value, anything else as a netref; with ``copy=True`` it comes
    back as a deep local copy instead. With ``timeout`` (seconds) a call that takes
    longer raises [`CallTimeout`][bitbridge.CallTimeout] and the server is killed.
    """

    def mark(method: F) -> F:
        if not callable(method):
            raise TypeError(f"@remote32 decorates methods, not {type(method).__name__}")
        setattr(method, MARK, RemoteSpec(copy=copy, timeout=timeout))
        return method

    return mark if func is None else mark(func)


def remote_spec(obj: Any) -> RemoteSpec | None:
    """Return the spec of a method marked with ``@remote32``, or None."""
    spec = getattr(obj, MARK, None)
    return spec if isinstance(spec, RemoteSpec) else None
