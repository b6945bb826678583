"""Arguments travel by value: pickled in one message, so types stay intact.

numpy is a client-side extra only: a numpy array arrives in the server as an
``array.array`` (one-dimensional, numeric) or as nested lists, and a numpy scalar as the
Python number it holds.

Two kinds of object travel by reference instead: arguments that are callable (a callback
runs in the process that owns it) and rpyc netrefs anywhere inside the arguments (an
object of the other side goes home as itself). They are set aside in ``refs``, which rpyc
carries by its own rules, and the pickle holds only their index.
"""

from __future__ import annotations

import array
import io
import pickle
import threading
from typing import Any

from rpyc.core.netref import BaseNetref

_loading = threading.local()


def _same(value: Any) -> Any:
    """Rebuild a value pickled in place of another; called while unpickling."""
    return value


def _ref(index: int) -> Any:
    """Stand in for the ``index``-th object set aside; called while unpickling."""
    return _loading.refs[index]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, refs: list[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs = refs

    def set_aside(self, obj: Any) -> Any:
        self.refs.append(obj)
        return _ref, (len(self.refs) - 1,)

    # Not called for exact ints, floats, strs, lists and the like: the common data stays
    # on the C pickler's fast path.
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _Reference):
            return self.set_aside(obj.obj)
        if isinstance(obj, BaseNetref):
            return self.set_aside(obj)
        if type(obj).__module__ == "numpy":
            return _same, (_from_numpy(obj),)
        return NotImplemented


# array.array type codes by numpy dtype kind and item size (sizes fixed on both sides).
_ARRAY_CODES = {
    ("f", 4): "f",
    ("f", 8): "d",
    ("i", 1): "b",
    ("i", 2): "h",
    ("i", 4): "i",
    ("i", 8): "q",
    ("u", 1): "B",
    ("u", 2): "H",
    ("u", 4): "I",
    ("u", 8): "Q",
}


def _from_numpy(obj: Any) -> Any:
    """Turn a numpy array or scalar into what a server without numpy can rebuild."""
    if not hasattr(obj, "ndim") or obj.ndim == 0:
        return obj.item()
    code = _ARRAY_CODES.get((obj.dtype.kind, obj.dtype.itemsize))
    if obj.ndim == 1 and code is not None:
        native = obj.astype(obj.dtype.newbyteorder("="), copy=False)
        return array.array(code, native.tobytes())
    return obj.tolist()


class _Reference:
    """Pickles as the object it wraps, set aside."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __reduce__(self) -> Any:
        raise AssertionError("pickled by _Pickler.reducer_override only")


def _wrap(value: Any) -> Any:
    is_callback = callable(value) and not isinstance(value, (type, BaseNetref))
    return _Reference(value) if is_callback else value


def dumps_call(
    args: tuple[Any, ...], kwargs: dict[str, Any], *header: Any
) -> tuple[bytes, tuple[Any, ...]]:
    """Pickle ``(*header, args, kwargs)``; return the bytes and the objects set aside."""
    wrapped = (*header, tuple(map(_wrap, args)), {k: _wrap(v) for k, v in kwargs.items()})
    refs: list[Any] = []
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, refs)
    pickler.dump(wrapped)
    return buffer.getvalue(), tuple(refs)


def loads(data: bytes, refs: tuple[Any, ...]) -> Any:
    """Rebuild what :func:`dumps` made, with ``refs`` as the objects set aside."""
    _loading.refs = refs
    try:
        return pickle.loads(data)
    finally:
        _loading.refs = ()
