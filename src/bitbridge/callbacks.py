"""Pass a Python callable (from the client, too) to C code as a function pointer.

ctypes cannot carry an exception through C: one raised in a callback is printed and
dropped. [`c_callback`][bitbridge.c_callback] keeps it instead, returns ``error_result``
to the library so it can stop early, and raises it again when the ``with`` block ends, so
it reaches the caller with its traceback (for a client callable: the client's and the
server's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _ctypes import CFuncPtr

#: A C function pointer type: what ``ctypes.CFUNCTYPE`` (or ``WINFUNCTYPE``) returns.
Pointer = TypeVar("Pointer", bound="CFuncPtr")


def c_callback(
    prototype: type[Pointer], function: Callable[..., Any], error_result: Any = None
) -> AbstractContextManager[Pointer]:
    """Return a context manager whose ``with`` block gets a C function pointer of type
    ``prototype`` that calls ``function``.

    ``prototype`` is a [`ctypes.CFUNCTYPE`][ctypes.CFUNCTYPE] (or
    [`WINFUNCTYPE`][ctypes.WINFUNCTYPE]) type. If ``function``
    raises, the C code gets ``error_result`` (0 when it is None and the prototype
    returns a value) and the exception is raised again when the block ends. Keep the
    pointer only inside the block: it is released afterwards.
    """
    return _pointer(prototype, function, error_result)


@contextmanager
def _pointer(
    prototype: type[Pointer], function: Callable[..., Any], error_result: Any
) -> Iterator[Pointer]:
    failures: list[BaseException] = []
    returns_value = getattr(prototype, "_restype_", None) is not None
    fallback = error_result if error_result is not None or not returns_value else 0

    def call(*args: Any) -> Any:
        if failures:
            return fallback
        try:
            result = function(*args)
        except BaseException as exc:
            failures.append(exc)
            return fallback
        return fallback if result is None and returns_value else result

    yield prototype(call)
    if failures:
        raise failures[0]
