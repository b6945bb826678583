"""Arguments travel by value: pickled in one message, so types stay intact.

Two kinds of object travel by reference instead: arguments that are callable (a callback
runs in the process that owns it) and rpyc netrefs anywhere inside the arguments (an
object of the other side goes home as itself). They are set aside in ``refs``, which rpyc
carries by its own rules, and the pickle holds only their index.

Numeric arrays (a one-dimensional numpy array, an ``array.array``, a typed
``memoryview``) reach the server as a ctypes array over shared memory: the library reads
and writes the client's data in place, and what it writes is copied back into the
client's array when the call returns. numpy is a client-side extra only: other numpy
arrays arrive as nested lists, numpy scalars as Python numbers. ``bytes`` and
``bytearray`` arguments of a megabyte or more travel through shared memory too, and
arrive as themselves. A ctypes array of fixed-size numbers is shared like a numpy array;
other ctypes values cross field by field (``ctypes_values``), rebuilt in the receiver's
layout. A ctypes array of numbers in a copied result comes back as an ``array.array``.

The arguments of a call from the server into the client (a callback) are pickled as a
copied result is (:func:`dumps_callback`): copies, never views of shared memory.
"""

from __future__ import annotations

import array
import collections
import ctypes
import io
import pickle
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from rpyc.core.netref import BaseNetref

from bitbridge.wire import ctypes_values, shm

#: ``bytes`` and ``bytearray`` from this size on go through shared memory.
SHARED_BYTES_FROM = 1 << 20

# ctypes element type by array.array type code; codes of fixed size on both sides.
_CTYPES: dict[str, type[ctypes._SimpleCData[Any]]] = {
    "b": ctypes.c_int8,
    "B": ctypes.c_uint8,
    "h": ctypes.c_int16,
    "H": ctypes.c_uint16,
    "i": ctypes.c_int32,
    "I": ctypes.c_uint32,
    "q": ctypes.c_int64,
    "Q": ctypes.c_uint64,
    "f": ctypes.c_float,
    "d": ctypes.c_double,
}


def _kind(code: str) -> str:
    """numpy's kind letter of an array.array type code: float, unsigned or signed."""
    return "f" if code in "fd" else "u" if code.isupper() else "i"


# The codes above by (kind, item size): numpy dtypes and array.array's platform-sized
# codes ("l" is 8 bytes in the client, 4 in a 32-bit server) map onto them.
_CODES = {(_kind(code), ctypes.sizeof(ctype)): code for code, ctype in _CTYPES.items()}

_loading = threading.local()


@dataclass
class Transfer:
    """What one pickled message shares with the other process."""

    limit: int | None = None
    pool: shm.Pool | None = None
    #: Whether buffers go through shared memory (else arrays travel as copies).
    shared: bool = shm.AVAILABLE
    #: Where blocks are made when there is no pool: an arena, or memfds of their own.
    arena: shm.Arena | None = None
    # (block, bytes in use) of this message
    blocks: list[tuple[shm.Block, int]] = field(default_factory=list)
    # (block, client array, whether the block holds the array's own bytes) to copy back
    write_back: list[tuple[shm.Block, Any, bool]] = field(default_factory=list)

    def share(self, data: memoryview) -> shm.Handle:
        """Copy ``data`` into a block and return its handle."""
        size = data.nbytes
        if self.limit is not None and size + sum(used for _, used in self.blocks) > self.limit:
            raise ValueError(
                f"the buffers of this call hold over {self.limit // (1 << 20)} MiB, more "
                "than a 32-bit server can map at once; pass the data in parts"
            )
        block = self.pool.take(size) if self.pool is not None else _new_block(size, self.arena)
        self.blocks.append((block, size))
        block.map[:size] = data.cast("B")
        return block.handle(size)

    def finish(self) -> None:
        """Copy what the server wrote back into the client's arrays; free the blocks."""
        try:
            for block, target, same_layout in self.write_back:
                if same_layout:
                    view = memoryview(target).cast("B")
                    view[:] = block.map[: view.nbytes]
                else:  # a strided or byte-swapped numpy array, shared as a contiguous copy
                    native = target.dtype.newbyteorder("=")
                    numpy = sys.modules["numpy"]
                    target[...] = numpy.frombuffer(block.map, dtype=native, count=len(target))
        finally:
            for block, _ in self.blocks:
                if self.pool is not None:
                    self.pool.give(block)
                else:
                    block.close()
            self.blocks.clear()


def _new_block(size: int, arena: shm.Arena | None) -> shm.Block:
    return arena.block(size) if arena is not None else shm.Block(size)


def _same(value: Any) -> Any:
    """Rebuild a value pickled in place of another; called while unpickling."""
    return value


def _ref(index: int) -> Any:
    """Stand in for the ``index``-th object set aside; called while unpickling."""
    return _loading.refs[index]


def _shared_array(handle: shm.Handle, code: str, length: int) -> Any:
    """A ctypes array over a shared block (valid during the call that brought it);
    called while unpickling in the server."""
    return (_CTYPES[code] * length).from_buffer(shm.MAPPINGS.get(handle))


def _shared_bytes(handle: shm.Handle, kind: type) -> Any:
    """``bytes`` or ``bytearray`` copied out of a shared block; called while unpickling."""
    return kind(shm.MAPPINGS.get(handle)[: handle[3]])


def _array_code(obj: Any) -> str | None:
    """The array.array type code of a one-dimensional numeric buffer, or None."""
    if isinstance(obj, array.array):
        return None if obj.typecode in "uw" else _CODES.get((_kind(obj.typecode), obj.itemsize))
    if type(obj).__module__ == "numpy" and getattr(obj, "ndim", 0) == 1:
        return _CODES.get((obj.dtype.kind, obj.dtype.itemsize))
    if isinstance(obj, memoryview) and obj.ndim == 1 and obj.format in _BUFFER_FORMATS:
        return _CODES.get((_kind(obj.format), obj.itemsize))
    if isinstance(obj, ctypes.Array):
        name = getattr(obj._type_, "__name__", "")
        return _SAME_SIZE_NAMES.get(name) if obj._type_ is getattr(ctypes, name, None) else None
    return None


# Single-letter struct formats of the numbers above, platform-sized ones included.
_BUFFER_FORMATS = frozenset("bBhHiIlLqQfd")

# ctypes element types by the name of their class, where the name means the same size in
# every process (an int is 4 bytes in ILP32, LP64 and LLP64): an array of them is shared
# like a numpy array. An array of c_long (also the class of c_int64 and c_ssize_t on
# 64-bit Linux) crosses by value instead, as the receiver's c_long (ctypes_values).
_SAME_SIZE_NAMES = {
    "c_byte": "b",
    "c_ubyte": "B",
    "c_short": "h",
    "c_ushort": "H",
    "c_int": "i",
    "c_uint": "I",
    "c_longlong": "q",
    "c_ulonglong": "Q",
    "c_float": "f",
    "c_double": "d",
}


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, refs: list[Any], transfer: Transfer | None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs = refs
        self.transfer = transfer

    def set_aside(self, obj: Any) -> Any:
        self.refs.append(obj)
        return _ref, (len(self.refs) - 1,)

    # Not called for exact ints, floats, strs, bytes, lists and the like: the common data
    # stays on the C pickler's fast path.
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _Reference):
            return self.set_aside(obj.obj)
        if isinstance(obj, BaseNetref):
            return self.set_aside(obj)
        if self.transfer is not None:
            if isinstance(obj, _LargeBytes):
                return _shared_bytes, (self.transfer.share(memoryview(obj.data)), bytes)
            shared = self.transfer.shared
            if type(obj) is bytearray and len(obj) >= SHARED_BYTES_FROM and shared:
                return _shared_bytes, (self.transfer.share(memoryview(obj)), bytearray)
            code = _array_code(obj)
            if code is not None:
                return self.share_array(obj, code)
        if type(obj).__module__ == "numpy":
            return _same, (_from_numpy(obj),)
        if (
            self.transfer is None
            and isinstance(obj, ctypes.Array)
            and (code := _ctypes_array_code(obj))
        ):  # a copy for the client (a result, a callback's argument)
            return _array_copy, (code, bytes(obj))
        return ctypes_values.reduce(obj)

    def share_array(self, obj: Any, code: str) -> Any:
        assert self.transfer is not None
        is_numpy = hasattr(obj, "dtype")
        data = _contiguous(obj) if is_numpy else obj
        view = memoryview(data)
        length = view.nbytes // ctypes.sizeof(_CTYPES[code])
        if not self.transfer.shared:
            return _ctypes_copy, (code, view.tobytes(), length)
        handle = self.transfer.share(view)
        writable = obj.flags.writeable if is_numpy else not memoryview(obj).readonly
        if writable:
            self.transfer.write_back.append((self.transfer.blocks[-1][0], obj, data is obj))
        return _shared_array, (handle, code, length)


def _array_copy(code: str, data: bytes) -> array.array[Any]:
    """An ``array.array`` holding ``data``; called while unpickling."""
    return array.array(code, data)


def _ctypes_copy(code: str, data: bytes, length: int) -> Any:
    """A ctypes array holding a copy of ``data``; where shared memory is missing."""
    return (_CTYPES[code] * length).from_buffer_copy(data)


def _ctypes_array_code(obj: Any) -> str | None:
    element = getattr(type(obj), "_type_", None)
    for code, ctype in _CTYPES.items():
        if element is ctype:
            return code
    return None


def _contiguous(obj: Any) -> Any:
    """A C-contiguous, native-byte-order numpy array with the values of ``obj``."""
    native = obj.astype(obj.dtype.newbyteorder("="), copy=False)
    return native if native.flags.c_contiguous else native.copy(order="C")


def _from_numpy(obj: Any) -> Any:
    """Turn a numpy array or scalar into what a server without numpy can rebuild."""
    if not hasattr(obj, "ndim") or obj.ndim == 0:
        return obj.item()
    return obj.tolist()


class _Reference:
    """Pickles as the object it wraps, set aside."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj


class _LargeBytes:
    """Large ``bytes`` (or ``bytearray``), to travel through shared memory."""

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data


def _wrap(value: Any, shared: bool) -> Any:
    if type(value) is bytes and len(value) >= SHARED_BYTES_FROM and shared:
        return _LargeBytes(value)
    is_callback = callable(value) and not isinstance(value, (type, BaseNetref))
    return _Reference(value) if is_callback else value


def _wrapped(args: tuple[Any, ...], kwargs: dict[str, Any], shared: bool) -> tuple[Any, ...]:
    return tuple(_wrap(v, shared) for v in args), {k: _wrap(v, shared) for k, v in kwargs.items()}


def dumps_call(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *header: Any,
    limit: int | None = None,
    pool: shm.Pool | None = None,
    shared: bool = shm.AVAILABLE,
    arena: shm.Arena | None = None,
) -> tuple[bytes, tuple[Any, ...], Transfer]:
    """Pickle ``(*header, args, kwargs)``; return the bytes, the objects set aside and
    the shared memory to finish after the call. ``limit`` caps the bytes shared;
    ``pool`` keeps blocks for later calls; ``arena`` holds them (a server under Wine);
    ``shared=False`` copies arrays instead (a server that cannot map the blocks)."""
    wrapped = (*header, *_wrapped(args, kwargs, shared))
    return _dumps(wrapped, Transfer(limit, pool, shared, arena))


def dumps_calls(
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
    *header: Any,
    limit: int | None = None,
    pool: shm.Pool | None = None,
    shared: bool = shm.AVAILABLE,
    arena: shm.Arena | None = None,
) -> tuple[bytes, tuple[Any, ...], Transfer]:
    """Pickle ``(*header, [(args, kwargs), ...])``, several calls in one message, as
    :func:`dumps_call` does one."""
    wrapped = [_wrapped(args, kwargs, shared) for args, kwargs in calls]
    return _dumps((*header, wrapped), Transfer(limit, pool, shared, arena))


def _dumps(obj: Any, transfer: Transfer) -> tuple[bytes, tuple[Any, ...], Transfer]:
    refs: list[Any] = []
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, refs, transfer).dump(obj)
    except BaseException:
        transfer.finish()
        raise
    return buffer.getvalue(), tuple(refs), transfer


class ResultBlocks:
    """The sender's shared blocks for large copied results (the server's, one per process).

    The client reads a result's blocks while it unpickles the reply, so they can be used
    again once the next call has come in; when calls may overlap (``concurrent``), blocks
    are not reused but closed a few results on.
    """

    KEPT_WHEN_CONCURRENT = 16

    def __init__(self, in_order: bool = True, arena: shm.Arena | None = None) -> None:
        self.in_order = in_order
        #: Whether results can share blocks with the client (a server under Wine: in
        #: the ``arena`` it was handed).
        self.shared = shm.AVAILABLE or arena is not None
        self.arena = arena
        self._pool = shm.Pool(arena)
        self._in_flight: collections.deque[shm.Block] = collections.deque()
        self._lock = threading.Lock()

    def take(self, size: int) -> shm.Block:
        """Return a block for ``size`` bytes of a result, released by a later ``recycle``."""
        block = self._pool.take(size) if self.in_order else _new_block(size, self.arena)
        self._in_flight.append(block)
        return block

    def recycle(self) -> None:
        """Free the blocks of earlier results, which the client has read by now."""
        with self._lock:
            if self.in_order:
                while self._in_flight:
                    self._pool.give(self._in_flight.popleft())
            else:
                while len(self._in_flight) > self.KEPT_WHEN_CONCURRENT:
                    self._in_flight.popleft().close()


class _ResultPickler(_Pickler):
    """Pickles a result in the server: large buffers go into shared blocks."""

    def __init__(self, file: io.BytesIO, refs: list[Any], blocks: ResultBlocks) -> None:
        super().__init__(file, refs, None)
        self.blocks = blocks

    def reducer_override(self, obj: Any) -> Any:
        if self.blocks.shared:
            if isinstance(obj, _LargeBytes):
                return _shared_bytes, (self.share_result(memoryview(obj.data)), type(obj.data))
            if isinstance(obj, array.array) and obj.itemsize * len(obj) >= SHARED_BYTES_FROM:
                return _shared_array_copy, (self.share_result(memoryview(obj)), obj.typecode)
            if isinstance(obj, ctypes.Array) and ctypes.sizeof(obj) >= SHARED_BYTES_FROM:
                code = _ctypes_array_code(obj)
                if code is not None:  # comes back as an array.array, as a small one does
                    return _shared_array_copy, (self.share_result(memoryview(obj)), code)
        return super().reducer_override(obj)

    def share_result(self, data: memoryview) -> shm.Handle:
        size = data.nbytes
        block = self.blocks.take(size)
        block.map[:size] = data.cast("B")
        return block.handle(size)


def _mark_large(value: Any, depth: int = 3) -> Any:
    """Mark large bytes in a result and its first few levels of tuples and lists (the C
    pickler never shows exact bytes to ``reducer_override``)."""
    if type(value) in (bytes, bytearray) and len(value) >= SHARED_BYTES_FROM:
        return _LargeBytes(value)
    if depth and type(value) in (tuple, list) and len(value) <= 64:
        return type(value)(_mark_large(item, depth - 1) for item in value)
    if depth and type(value) is dict and len(value) <= 64:
        return {key: _mark_large(item, depth - 1) for key, item in value.items()}
    return value


def _shared_array_copy(handle: shm.Handle, typecode: str) -> array.array[Any]:
    """An ``array.array`` copied out of a shared block; called while unpickling."""
    copy = array.array(typecode)
    copy.frombytes(shm.MAPPINGS.get(handle)[: handle[3]])
    return copy


def dumps_result(result: Any, blocks: ResultBlocks | None) -> tuple[bytes, tuple[Any, ...]]:
    """Pickle a result to copy to the client (in the server), large buffers into
    ``blocks`` (None: all through the socket); return the bytes and the netrefs set
    aside, which rpyc turns back into the client's own objects."""
    refs: list[Any] = []
    buffer = io.BytesIO()
    if blocks is None:
        _Pickler(buffer, refs, None).dump(result)
        return buffer.getvalue(), tuple(refs)
    blocks.recycle()
    _ResultPickler(buffer, refs, blocks).dump(_mark_large(result) if blocks.shared else result)
    return buffer.getvalue(), tuple(refs)


def dumps_callback(
    args: tuple[Any, ...], kwargs: dict[str, Any], blocks: ResultBlocks
) -> tuple[bytes, tuple[Any, ...]]:
    """Pickle the arguments of a call from the server into the client (in the server) as
    :func:`dumps_result` pickles a copied result: by value in one message, large buffers
    into ``blocks``, callables and netrefs by reference. :func:`loads` rebuilds
    ``(args, kwargs)``: copies that stay valid after the call and the bridge."""
    return dumps_result(_wrapped(args, kwargs, blocks.shared), blocks)


def dumps_event(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle the arguments of an event (``wire/events.py``): by value and all in the
    message, since no reply comes back to carry references; :func:`loads` with no refs
    rebuilds ``(args, kwargs)``. TypeError for a callable or netref among them."""
    refs: list[Any] = []
    buffer = io.BytesIO()
    _Pickler(buffer, refs, None).dump(_wrapped(args, kwargs, False))
    if refs:
        raise TypeError(
            f"an event's arguments cross by value only, and {refs[0]!r} is a reference "
            "(a callable or an object of the other side); pass plain data"
        )
    return buffer.getvalue()


def call_packed(function: Any, arguments: bytes, refs: tuple[Any, ...]) -> Any:
    """Call ``function`` with the arguments that :func:`dumps_callback` packed (in the
    client, serving the server's call of it); return its result."""
    args, kwargs = loads(arguments, refs)
    return function(*args, **kwargs)


def loads_result(copied: tuple[bytes, tuple[Any, ...]]) -> Any:
    """Rebuild a result that :func:`dumps_result` made (in the client)."""
    data, refs = copied
    return loads(data, refs)


def loads(data: bytes, refs: tuple[Any, ...]) -> Any:
    """Rebuild what :func:`dumps_call` made, with ``refs`` as the objects set aside."""
    _loading.refs = refs
    try:
        return pickle.loads(data)
    finally:
        _loading.refs = ()
