"""Pass a Python callable (from the client, too) to C code as a function pointer.

ctypes cannot carry an exception through C: one raised in a callback is printed and
dropped. [`c_callback`][bitbridge.c_callback] keeps it instead, returns ``error_result``
to the library so it can stop early, and raises it again from the remote call during
which the library called back (or, at the latest, when the ``with`` block ends), so it
reaches the caller with its traceback (for a client callable: the client's and the
server's).

The pointer stays valid as long as its ``with`` block lasts, however long that is: a
block entered into a ``contextlib.ExitStack`` kept on ``self`` keeps an event handler
alive across calls. A library that calls a pointer after its block ended (the handler
was released at the end of the call that registered it, say) does not crash the
server: the last :data:`RELEASED_KEPT` released pointers are kept, and calling one logs
an error on the ``bitbridge`` logger and returns ``error_result`` to the library.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _ctypes import CFuncPtr

#: A C function pointer type: what ``ctypes.CFUNCTYPE`` (or ``WINFUNCTYPE``) returns.
Pointer = TypeVar("Pointer", bound="CFuncPtr")

#: How many released pointers are kept callable (and loud) before they are freed.
RELEASED_KEPT = 256

log = logging.getLogger("bitbridge.callbacks")
_released: collections.deque[Any] = collections.deque(maxlen=RELEASED_KEPT)
# Per thread, a stack (calls nest through callbacks) of the exceptions raised by callbacks
# during the remote call the thread runs: the call raises the first not raised yet.
_this_call = threading.local()


def c_callback(
    prototype: type[Pointer], function: Callable[..., Any], error_result: Any = None
) -> AbstractContextManager[Pointer]:
    """Return a context manager whose ``with`` block gets a C function pointer of type
    ``prototype`` that calls ``function``.

    ``prototype`` is a [`ctypes.CFUNCTYPE`][ctypes.CFUNCTYPE] (or
    [`WINFUNCTYPE`][ctypes.WINFUNCTYPE]) type. The pointer is valid until the block
    ends: for a library that keeps it (an event handler), enter the block into a
    ``contextlib.ExitStack`` kept on ``self`` and close that when the library no longer
    calls it. If ``function`` raises, the C code gets ``error_result`` (0 when it is
    None and the prototype returns a value), later calls return it at once, and the
    exception is raised again by the remote call during which it happened, or else when
    the block ends.
    """
    return _pointer(prototype, function, error_result)


@contextmanager
def _pointer(
    prototype: type[Pointer], function: Callable[..., Any], error_result: Any
) -> Iterator[Pointer]:
    failures: list[BaseException] = []
    released = False
    returns_value = getattr(prototype, "_restype_", None) is not None
    fallback = error_result if error_result is not None or not returns_value else 0

    def call(*args: Any) -> Any:
        if released:
            log.error(
                "the library called back %s after its c_callback block had ended (it "
                "kept the pointer): returned %r to it. Keep the block open for as long as "
                "the library may call it, e.g. entered into a contextlib.ExitStack kept on "
                "self.",
                getattr(function, "__qualname__", function),
                fallback,
            )
            return fallback
        if failures:
            return fallback
        try:
            result = function(*args)
        except BaseException as exc:
            failures.append(exc)
            _pending().append(exc)
            return fallback
        return fallback if result is None and returns_value else result

    # Held by this frame for as long as the block lasts: ctypes does not keep a pointer
    # alive for the library that was given it.
    pointer = prototype(call)
    try:
        yield pointer
    finally:
        released = True
        _released.append(pointer)
    if failures:
        _raise_once(failures[0])


def _pending() -> list[BaseException]:
    """The failures of the remote call this thread runs (a throwaway list on a thread
    that runs none: the library's own)."""
    calls: list[list[BaseException] | None] = getattr(_this_call, "stack", [])
    if not calls:
        return []
    failures = calls[-1]
    if failures is None:  # the call's first failure
        failures = calls[-1] = []
    return failures


def _raise_once(failure: BaseException) -> None:
    if not getattr(failure, _RAISED, False):
        setattr(failure, _RAISED, True)
        raise failure


_RAISED = "_bitbridge_raised"


class collecting:  # a context manager, named as one made by contextlib would be
    """Run a remote call (the server's host, around each one): on return, raise the
    first exception a callback raised during it that its ``with`` block has not."""

    __slots__ = ()

    # Each call's place on the stack holds None until a callback fails during it: a
    # call that none fails in (nearly all) costs an append and a pop.
    def __enter__(self) -> None:
        try:
            stack: list[list[BaseException] | None] = _this_call.stack
        except AttributeError:
            stack = _this_call.stack = []
        stack.append(None)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        failures: list[BaseException] | None = _this_call.stack.pop()
        if failures and kind is None:  # the call's own exception wins
            for failure in failures:
                _raise_once(failure)
