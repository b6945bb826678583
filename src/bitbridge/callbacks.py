"""Pass a Python callable (from the client, too) to C code as a function pointer.

ctypes cannot carry an exception through C: one raised in a callback is printed and
dropped. [`c_callback`][bitbridge.c_callback] keeps it instead, returns ``error_result``
to the library so it can stop early, and raises it again when the ``with`` block ends, so
it reaches the caller with its traceback (for a client callable: the client's and the
server's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def c_callback(
    prototype: Any, function: Callable[..., Any], error_result: Any = None
) -> Iterator[Any]:
    """Yield a C function pointer of type ``prototype`` that calls ``function``.

    ``prototype`` is a ``ctypes.CFUNCTYPE`` (or ``WINFUNCTYPE``) type. If ``function``
    raises, the C code gets ``error_result`` (0 when it is None and the prototype
    returns a value) and the exception is raised again when the block ends. Keep the
    pointer only inside the block: it is released afterwards.
    """
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
