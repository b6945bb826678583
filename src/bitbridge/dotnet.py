"""Load a .NET assembly in the 32-bit server: ``libtype = "net"``.

The server talks to Mono's C embedding API (``libmonosgen-2.0``) through ctypes, with a
small C helper, ``libbbmono.so`` (``bitbridge/mono/bbmono.c``), that hands every managed
object to Python as a GC handle. Both live in a private i386 Mono root provisioned by
``bitbridge mono32 install``. This module uses the standard library only.

Why not pythonnet: on 32-bit Linux, pythonnet 3 cannot start (its issue #1210). It
declares the Python C API with return types that are one-pointer structs; the i386
System V ABI returns such structs through a hidden first argument, which Mono follows
and CPython's functions do not, so every call into Python is shifted by one argument
and ``import clr`` fails. Windows x86 returns small structs in a register, which is why
32-bit pythonnet works there. Calling Mono directly avoids the problem altogether.

    lib = load_net("/path/dotnet_lib32.dll")            # Mono starts on first use
    lib.DotNetMSL.BasicMath().add_integers(4, 5)        # 9
    lib.StaticClass.add_multiple(1, 2, 3, 4, 5)         # a static method: 15
    lib.get_class_names()                               # ['DotNetMSL.BasicMath', ...]

Arguments are converted by the .NET parameter types: bool, every integer width
(range-checked), float, double, char, string, ``T[]`` from any sequence (a ctypes array
or ``array.array`` of the element type is copied in one go), ``T[,]`` from nested
sequences, ``object`` from bool/int/float/str, and other .NET objects. Results come back
as Python values, arrays as (nested) lists, other objects as :class:`NetObject`. A .NET
exception raises :class:`NetError`. Not supported: ``ref``/``out`` parameters, generic
methods, properties and fields.

Rules that keep Mono alive (each one was a crash while prototyping): every thread is
attached to Mono before its first Mono call, even a metadata look-up; Python never holds
a raw ``MonoObject*``, only GC handles, because SGen moves objects; ``ToString()`` is
invoked as a method, never through ``mono_object_to_string()``.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import os
import threading
from collections.abc import Sequence
from ctypes import (
    POINTER,
    byref,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int8,
    c_int16,
    c_int32,
    c_int64,
    c_size_t,
    c_ssize_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, TypeAlias

from bitbridge.errors import LibraryLoadError
from bitbridge.interpreter import bitbridge_home

__all__ = [
    "NetAssembly",
    "NetClass",
    "NetError",
    "NetNamespace",
    "NetObject",
    "load_net",
    "missing_parts",
    "mono_root",
    "start_mono",
]

#: Names a Mono root other than ``bitbridge_home()/mono32``.
ROOT_ENV_VAR = "BITBRIDGE_MONO_ROOT"
#: The files of a Mono root, relative to it: the i386 runtime, the helper, and
#: ``mscorlib.dll`` through the link to the system's class libraries.
RUNTIME = "usr/lib/libmonosgen-2.0.so.1"
HELPER = "usr/lib/libbbmono.so"
CORLIB = "usr/lib/mono/4.5/mscorlib.dll"
PROVISION_HINT = (
    "Provision it with `bitbridge mono32 install` (Debian/Ubuntu; needs apt's i386 "
    "architecture, gcc-multilib and mono-mcs), or set "
    f"{ROOT_ENV_VAR} to a Mono root made that way."
)


def mono_root() -> Path:
    """Return the folder of the private i386 Mono runtime."""
    if explicit := os.environ.get(ROOT_ENV_VAR):
        return Path(explicit)
    return bitbridge_home() / "mono32"


def missing_parts(root: Path) -> list[str]:
    """Return the files a usable Mono root lacks (none when it is complete)."""
    return [str(root / part) for part in (RUNTIME, HELPER, CORLIB) if not (root / part).exists()]


class NetError(Exception):
    """A .NET exception raised by a call: its type name and its ``ToString()`` text."""

    def __init__(self, type_name: str, text: str) -> None:
        super().__init__(type_name, text)
        self.type_name = type_name
        self.text = text

    def __str__(self) -> str:
        # ToString() of a .NET exception starts with its type name already
        return (
            self.text if self.text.startswith(self.type_name) else f"{self.type_name}: {self.text}"
        )


# MonoTypeEnum values (mono/metadata/blob.h)
_VOID, _BOOLEAN, _CHAR, _I1, _U1, _I2, _U2, _I4, _U4, _I8, _U8, _R4, _R8, _STRING = range(1, 15)
_ARRAY, _I, _U, _OBJECT, _SZARRAY = 0x14, 0x18, 0x19, 0x1C, 0x1D

_CType: TypeAlias = "type[ctypes._SimpleCData[Any]]"
_PRIMS: dict[int, tuple[_CType, Any]] = {  # MonoTypeEnum -> (ctypes type, Python type)
    _BOOLEAN: (c_uint8, bool),
    _CHAR: (c_uint16, chr),
    _I1: (c_int8, int),
    _U1: (c_uint8, int),
    _I2: (c_int16, int),
    _U2: (c_uint16, int),
    _I4: (c_int32, int),
    _U4: (c_uint32, int),
    _I8: (c_int64, int),
    _U8: (c_uint64, int),
    _R4: (c_float, float),
    _R8: (c_double, float),
    _I: (c_ssize_t, int),
    _U: (c_size_t, int),
}
_SIGNED = (_I1, _I2, _I4, _I8, _I)
# array.array type codes whose items can be copied as they are into a .NET array
_ARRAY_CODES = {_R8: "d", _R4: "f", _I4: "i", _U4: "I", _I8: "q", _U8: "Q", _I2: "h", _U2: "H"}

_METHOD_STATIC, _METHOD_ACCESS_MASK, _METHOD_PUBLIC = 0x10, 0x7, 0x6
_TYPE_VISIBILITY_MASK, _TYPE_PUBLIC, _TYPE_ABSTRACT = 0x7, 0x1, 0x80
_TABLE_TYPEDEF = 2

_Signatures = dict[str, tuple[Any, list[Any]]]
_API: _Signatures = {  # libmonosgen; none of these returns a MonoObject*
    "mono_set_dirs": (None, [c_char_p, c_char_p]),
    "mono_config_parse": (None, [c_char_p]),
    "mono_jit_init": (c_void_p, [c_char_p]),
    "mono_thread_attach": (c_void_p, [c_void_p]),
    "mono_thread_current": (c_void_p, []),
    "mono_thread_detach": (None, [c_void_p]),
    "mono_domain_assembly_open": (c_void_p, [c_void_p, c_char_p]),
    "mono_assembly_get_image": (c_void_p, [c_void_p]),
    "mono_image_get_table_rows": (c_int, [c_void_p, c_int]),
    "mono_class_get": (c_void_p, [c_void_p, c_uint32]),
    "mono_class_from_name": (c_void_p, [c_void_p, c_char_p, c_char_p]),
    "mono_class_get_name": (c_char_p, [c_void_p]),
    "mono_class_get_namespace": (c_char_p, [c_void_p]),
    "mono_class_get_flags": (c_uint32, [c_void_p]),
    "mono_class_get_nesting_type": (c_void_p, [c_void_p]),
    "mono_class_get_parent": (c_void_p, [c_void_p]),
    "mono_class_get_methods": (c_void_p, [c_void_p, POINTER(c_void_p)]),
    "mono_class_get_element_class": (c_void_p, [c_void_p]),
    "mono_class_get_rank": (c_int, [c_void_p]),
    "mono_class_get_type": (c_void_p, [c_void_p]),
    "mono_class_get_image": (c_void_p, [c_void_p]),
    "mono_class_from_mono_type": (c_void_p, [c_void_p]),
    "mono_class_get_method_from_name": (c_void_p, [c_void_p, c_char_p, c_int]),
    "mono_method_get_name": (c_char_p, [c_void_p]),
    "mono_method_get_flags": (c_uint32, [c_void_p, POINTER(c_uint32)]),
    "mono_method_signature": (c_void_p, [c_void_p]),
    "mono_signature_get_param_count": (c_uint32, [c_void_p]),
    "mono_signature_get_params": (c_void_p, [c_void_p, POINTER(c_void_p)]),
    "mono_signature_get_return_type": (c_void_p, [c_void_p]),
    "mono_type_get_type": (c_int, [c_void_p]),
    "mono_type_is_byref": (c_int, [c_void_p]),
    "mono_type_get_name": (c_void_p, [c_void_p]),
    "mono_get_array_class": (c_void_p, []),
    "mono_get_object_class": (c_void_p, []),
    "mono_get_runtime_build_info": (c_void_p, []),
    "mono_free": (None, [c_void_p]),
    "mono_gc_collect": (None, [c_int]),
    # Only ever called with a *pinned* handle, whose target stays where it is:
    "mono_gchandle_get_target": (c_void_p, [c_uint32]),
    "mono_gchandle_free": (None, [c_uint32]),
    "mono_object_get_class": (c_void_p, [c_void_p]),
    "mono_object_get_virtual_method": (c_void_p, [c_void_p, c_void_p]),
    "mono_object_unbox": (c_void_p, [c_void_p]),
    "mono_string_chars": (c_void_p, [c_void_p]),
    "mono_string_length": (c_int, [c_void_p]),
    "mono_array_addr_with_size": (c_void_p, [c_void_p, c_int, c_size_t]),
    "mono_array_length": (c_size_t, [c_void_p]),
    "mono_gc_wbarrier_set_arrayref": (None, [c_void_p, c_void_p, c_void_p]),
}
_HELPER_API: _Signatures = {  # libbbmono (bbmono.c): every object comes back as a GC handle
    "bb_invoke": (c_uint32, [c_void_p, c_uint32, c_void_p, POINTER(c_uint32)]),
    "bb_string": (c_uint32, [c_void_p, c_char_p, c_int32]),
    "bb_array": (c_uint32, [c_void_p, c_void_p, POINTER(c_size_t)]),
    "bb_box": (c_uint32, [c_void_p, c_void_p, c_void_p]),
    "bb_new": (c_uint32, [c_void_p, c_void_p]),
    "bb_keep": (c_uint32, [c_uint32]),
    "bb_pin": (c_uint32, [c_uint32]),
    "bb_array_element": (c_uint32, [c_uint32, c_size_t]),
    "bb_array_length": (c_int32, [c_void_p, c_uint32, c_int32]),
}


def _bind(library: ctypes.CDLL, signatures: _Signatures) -> Any:
    for name, (restype, argtypes) in signatures.items():
        function = getattr(library, name)
        function.restype, function.argtypes = restype, argtypes
    return library


class _Detacher:
    """Kept in a thread's ``threading.local``: dropped when the thread ends, detaching it."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.lib.mono_thread_detach(self.lib.mono_thread_current())


class _Mono:
    """The process-wide Mono runtime: one per process, as Mono cannot be restarted."""

    def __init__(self, root: Path) -> None:
        # Read by Mono as it starts. no-gdb-backtrace: a crash aborts (status 134) instead
        # of running gdb, writing mono_crash.* files into the current folder and, when the
        # crash is on a thread, exiting with status 0. No shared area: no /dev/shm/mono.<pid>
        # is left behind when the server is killed.
        os.environ.setdefault("MONO_DEBUG", "no-gdb-backtrace")
        os.environ.setdefault("MONO_DISABLE_SHARED_AREA", "1")
        # RTLD_GLOBAL: the helper resolves its mono_* symbols against this library.
        self.lib = _bind(ctypes.CDLL(str(root / RUNTIME), mode=ctypes.RTLD_GLOBAL), _API)
        self.bb = _bind(ctypes.CDLL(str(root / HELPER)), _HELPER_API)
        lib = self.lib
        # The assembly folder must hold both mono/4.5/mscorlib.dll and libmono-native.so:
        # the config's $mono_libdir expands to it, not to the runtime library's folder.
        lib.mono_set_dirs(os.fsencode(root / "usr" / "lib"), os.fsencode(root / "etc"))
        lib.mono_config_parse(None)  # reads <root>/etc/mono/config
        self.domain = lib.mono_jit_init(b"bitbridge")
        if not self.domain:
            raise LibraryLoadError(f"Mono did not start (mono_jit_init failed) from {root}")
        info = lib.mono_get_runtime_build_info()
        self.version: str = ctypes.string_at(info).decode()
        lib.mono_free(info)
        self._local = threading.local()
        self._local.attached = True  # mono_jit_init attached this thread
        array_class, object_class = lib.mono_get_array_class(), lib.mono_get_object_class()
        self._get_length = lib.mono_class_get_method_from_name(array_class, b"GetLength", 1)
        self._to_string = lib.mono_class_get_method_from_name(object_class, b"ToString", 0)
        self._corlib = lib.mono_class_get_image(object_class)

    def attach(self) -> None:
        """Register the calling thread with Mono, once per thread (undone when it ends).

        Needed before any Mono call, even a metadata look-up: Mono 6.8 aborts with
        "Cannot enter GC unsafe region if the thread is not attached" otherwise.
        """
        if not getattr(self._local, "attached", False):
            self.lib.mono_thread_attach(self.domain)
            self._local.attached = True
            self._local.detacher = _Detacher(self.lib)

    def target(self, pinned_handle: int) -> int:
        """The address of a pinned handle's object."""
        return self.lib.mono_gchandle_get_target(pinned_handle)  # type: ignore[no-any-return]

    def free(self, handle: int) -> None:
        if handle:
            self.lib.mono_gchandle_free(handle)

    def invoke(self, method: int, this_handle: int, args: Sequence[Any]) -> Any:
        """Call ``method`` on the object behind ``this_handle`` (0: a static method)."""
        lib = self.lib
        self.attach()
        signature = lib.mono_method_signature(method)
        types = _param_types(lib, signature)
        if len(args) != len(types):
            raise TypeError(
                f"{_name(lib, method)}() takes {len(types)} arguments ({len(args)} given)"
            )
        keep: list[Any] = []  # ctypes cells that must outlive the call
        handles: list[int] = []  # pinned handles of the managed arguments
        params = (c_void_p * max(1, len(args)))()
        exc = c_uint32()
        try:
            for i, (ptype, value) in enumerate(zip(types, args, strict=True)):
                params[i] = self.to_net(ptype, value, keep, handles)
            result = self.bb.bb_invoke(method, this_handle, params, byref(exc))
        finally:
            for handle in handles:
                self.free(handle)
        if exc.value:
            try:
                raise self._exception(exc.value)
            finally:
                self.free(exc.value)
        try:
            if lib.mono_type_get_type(lib.mono_signature_get_return_type(signature)) == _VOID:
                return None
            return self._py_value(result) if result else None
        finally:
            self.free(result)

    def new(self, klass: int, args: Sequence[Any]) -> NetObject:
        """Construct an instance of ``klass`` with the public constructor taking ``args``."""
        lib = self.lib
        self.attach()
        if lib.mono_class_get_flags(klass) & _TYPE_ABSTRACT:  # static classes are abstract too
            raise TypeError(
                f"{_class_name(lib, klass)} is abstract or static: it cannot be instantiated"
            )
        # Its own constructors only: the inherited System.Object() would construct anything.
        constructors = [
            method
            for method in _methods(lib, klass, inherited=False)
            if _name(lib, method) == ".ctor" and _arity(lib, method) == len(args)
        ]
        if not constructors:
            raise TypeError(
                f"{_class_name(lib, klass)} has no public constructor taking {len(args)} arguments"
            )
        instance = NetObject(self, self.bb.bb_new(self.domain, klass))
        self.invoke(_pick(self, constructors, args), instance.handle, args)
        return instance

    # Python -> .NET

    def to_net(self, ptype: int, value: Any, keep: list[Any], handles: list[int]) -> int | None:
        """The ``params[]`` entry of one argument: the address of a value cell for a value
        type, the address of a pinned object for a reference type."""
        lib = self.lib
        if lib.mono_type_is_byref(ptype):
            raise TypeError("ref and out parameters are not supported")
        kind = lib.mono_type_get_type(ptype)
        if kind in _PRIMS:
            cell = _PRIMS[kind][0](_check(kind, value))
            keep.append(cell)
            return ctypes.addressof(cell)
        if value is None:
            return None
        if isinstance(value, NetObject):
            pinned = self.bb.bb_pin(value.handle)
            handles.append(pinned)
            return self.target(pinned)
        if kind == _STRING:
            if not isinstance(value, str):
                raise TypeError(f"expected str, got {type(value).__name__}")
            return self.target(self._string(value, handles))
        if kind in (_SZARRAY, _ARRAY):
            array_class = lib.mono_class_from_mono_type(ptype)
            return self.target(self._array(array_class, value, handles))
        if kind == _OBJECT:
            return self.target(self._box(value, handles))
        raise TypeError(
            f"cannot convert {type(value).__name__} to the .NET type {_type_name(lib, ptype)}"
        )

    def _string(self, text: str, handles: list[int]) -> int:
        data = text.encode("utf-16-le", "surrogatepass")
        pinned: int = self.bb.bb_string(self.domain, data, len(data) // 2)
        handles.append(pinned)
        return pinned

    def _box(self, value: Any, handles: list[int]) -> int:
        if isinstance(value, str):
            return self._string(value, handles)
        kinds: dict[type, tuple[bytes, _CType]] = {
            bool: (b"Boolean", c_uint8),
            int: (b"Int32", c_int32),
            float: (b"Double", c_double),
        }
        if type(value) not in kinds:
            raise TypeError(f"cannot pass {type(value).__name__} as System.Object")
        name, ctype = kinds[type(value)]
        cell = ctype(value)
        klass = self.lib.mono_class_from_name(self._corlib, b"System", name)
        pinned: int = self.bb.bb_box(self.domain, klass, ctypes.addressof(cell))
        handles.append(pinned)
        return pinned

    def _array(self, array_class: int, value: Any, handles: list[int]) -> int:
        lib = self.lib
        rank = lib.mono_class_get_rank(array_class)
        element_class = lib.mono_class_get_element_class(array_class)
        kind = lib.mono_type_get_type(lib.mono_class_get_type(element_class))
        if kind not in _PRIMS and not (kind == _STRING and rank == 1):
            raise TypeError(f"arrays of {_class_name(lib, element_class)} are not supported")
        data: Any = None
        if kind in _PRIMS:  # convert every element before allocating anything
            ctype = _PRIMS[kind][0]
            data = _raw_items(value, kind, ctype) if rank == 1 else None
            if data is not None:
                shape = [len(data) // ctypes.sizeof(ctype)]
            else:
                shape, flat = _flatten(value, rank)
                data = bytes((ctype * len(flat))(*[_check(kind, item) for item in flat]))
        else:
            shape, flat = _flatten(value, rank)
            if any(item is not None and not isinstance(item, str) for item in flat):
                raise TypeError("expected a sequence of str")
        pinned: int = self.bb.bb_array(self.domain, array_class, (c_size_t * rank)(*shape))
        handles.append(pinned)
        address = self.target(pinned)
        if kind in _PRIMS:
            if data:
                first = lib.mono_array_addr_with_size(address, ctypes.sizeof(ctype), 0)
                ctypes.memmove(first, data, len(data))
        else:
            pointer_size = ctypes.sizeof(c_void_p)
            for index, item in enumerate(flat):
                if item is not None:
                    text = self._string(item, [])
                    slot = lib.mono_array_addr_with_size(address, pointer_size, index)
                    lib.mono_gc_wbarrier_set_arrayref(address, slot, self.target(text))
                    self.free(text)
        return pinned

    # .NET -> Python

    def _py_value(self, pinned: int) -> Any:
        """The Python value of the object behind a pinned handle (the caller frees it)."""
        lib = self.lib
        address = self.target(pinned)
        klass = lib.mono_object_get_class(address)
        kind = lib.mono_type_get_type(lib.mono_class_get_type(klass))
        if kind in _PRIMS:  # a boxed primitive
            ctype, convert = _PRIMS[kind]
            return convert(ctype.from_address(lib.mono_object_unbox(address)).value)
        if kind == _STRING:
            return self._py_string(address)
        if kind in (_SZARRAY, _ARRAY):
            return self._py_array(pinned, address, klass)
        return NetObject(self, self.bb.bb_keep(pinned))

    def _py_string(self, address: int) -> str:
        length = self.lib.mono_string_length(address)
        chars = ctypes.string_at(self.lib.mono_string_chars(address), 2 * length)
        return chars.decode("utf-16-le", "surrogatepass")

    def _py_array(self, pinned: int, address: int, klass: int) -> list[Any]:
        lib = self.lib
        rank = lib.mono_class_get_rank(klass)
        element_class = lib.mono_class_get_element_class(klass)
        kind = lib.mono_type_get_type(lib.mono_class_get_type(element_class))
        if rank == 1:
            shape = [lib.mono_array_length(address)]
        else:
            get_length = self.bb.bb_array_length
            shape = [get_length(self._get_length, pinned, dim) for dim in range(rank)]
        total = 1
        for length in shape:
            total *= length
        flat: list[Any] = []
        if not total:
            pass
        elif kind in _PRIMS:
            ctype, convert = _PRIMS[kind]
            first = lib.mono_array_addr_with_size(address, ctypes.sizeof(ctype), 0)
            flat = [convert(item) for item in (ctype * total).from_address(first)]
        else:  # references: each element is pinned through a handle made in C
            for index in range(total):
                element = self.bb.bb_array_element(pinned, index)
                try:
                    flat.append(self._py_value(element) if element else None)
                finally:
                    self.free(element)
        return _nest(flat, shape)

    def text(self, pinned: int) -> str:
        """``ToString()`` of the object behind a pinned handle, invoked as a method.

        Not ``mono_object_to_string()``: in Mono 6.8 that aborts the process ("Cannot
        transition thread ... from STATE_BLOCKING") when the object is an exception.
        """
        method = self.lib.mono_object_get_virtual_method(self.target(pinned), self._to_string)
        exc = c_uint32()
        result = self.bb.bb_invoke(method, pinned, None, byref(exc))
        try:
            if exc.value or not result:
                return "<ToString() failed>"
            return self._py_string(self.target(result))
        finally:
            self.free(exc.value)
            self.free(result)

    def _exception(self, pinned: int) -> NetError:
        klass = self.lib.mono_object_get_class(self.target(pinned))
        return NetError(_class_name(self.lib, klass), self.text(pinned))


def _raw_items(value: Any, kind: int, ctype: _CType) -> bytes | None:
    """The bytes of a ctypes array or ``array.array`` of exactly the element type, else None."""
    if isinstance(value, ctypes.Array) and value._type_ is ctype:
        return bytes(memoryview(value).cast("B"))
    if isinstance(value, array.array) and value.typecode == _ARRAY_CODES.get(kind):
        return value.tobytes()
    return None


def _check(kind: int, value: Any) -> Any:
    """Validate a Python value for a .NET primitive parameter; never truncate silently."""
    if kind == _BOOLEAN:
        if not isinstance(value, (bool, int)):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return bool(value)
    if kind == _CHAR:
        if isinstance(value, str) and len(value) == 1 and ord(value) < 0x10000:
            return ord(value)
        raise TypeError(f"expected a one-character str, got {value!r}")
    if kind in (_R4, _R8):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
            raise TypeError(f"expected float, got {type(value).__name__}")
        return float(value)
    if not hasattr(value, "__index__"):
        raise TypeError(f"expected int, got {type(value).__name__}")
    number = value.__index__()
    bits = 8 * ctypes.sizeof(_PRIMS[kind][0])
    signed = kind in _SIGNED
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= number <= high:
        raise OverflowError(f"{number} does not fit in a {'' if signed else 'u'}int{bits}")
    return number


def _flatten(value: Any, rank: int) -> tuple[list[int], list[Any]]:
    """Nested sequences as (shape, row-major items); ValueError when not rectangular."""
    if isinstance(value, (str, bytes)):
        raise TypeError("expected a sequence, got a string")
    try:
        rows = list(value)
    except TypeError:
        raise TypeError(f"expected a sequence, got {type(value).__name__}") from None
    if rank == 1:
        return [len(rows)], rows
    inner = [_flatten(row, rank - 1) for row in rows]
    shape = inner[0][0] if inner else [0] * (rank - 1)
    if any(sub != shape for sub, _ in inner):
        raise ValueError("a rectangular .NET array needs rows of equal length")
    return [len(rows), *shape], [item for _, items in inner for item in items]


def _nest(flat: list[Any], shape: list[int]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _name(lib: Any, method: int) -> str:
    return lib.mono_method_get_name(method).decode()  # type: ignore[no-any-return]


def _arity(lib: Any, method: int) -> int:
    count: int = lib.mono_signature_get_param_count(lib.mono_method_signature(method))
    return count


def _class_name(lib: Any, klass: int) -> str:
    namespace: str = lib.mono_class_get_namespace(klass).decode()
    name: str = lib.mono_class_get_name(klass).decode()
    return f"{namespace}.{name}" if namespace else name


def _type_name(lib: Any, mono_type: int) -> str:
    pointer = lib.mono_type_get_name(mono_type)
    name = ctypes.string_at(pointer).decode()
    lib.mono_free(pointer)
    return name


def _param_types(lib: Any, signature: int) -> list[int]:
    iterator, types = c_void_p(), []
    while param := lib.mono_signature_get_params(signature, byref(iterator)):
        types.append(param)
    return types


def _methods(lib: Any, klass: int, inherited: bool = True) -> list[int]:
    """The public methods of ``klass`` and, when ``inherited``, of its base classes."""
    methods = []
    while klass:
        iterator = c_void_p()
        while method := lib.mono_class_get_methods(klass, byref(iterator)):
            if lib.mono_method_get_flags(method, None) & _METHOD_ACCESS_MASK == _METHOD_PUBLIC:
                methods.append(method)
        klass = lib.mono_class_get_parent(klass) if inherited else 0
    return methods


def _accepts(mono: _Mono, method: int, args: Sequence[Any]) -> bool:
    handles: list[int] = []
    types = _param_types(mono.lib, mono.lib.mono_method_signature(method))
    try:
        for ptype, value in zip(types, args, strict=True):
            mono.to_net(ptype, value, [], handles)
    except (TypeError, ValueError, OverflowError):
        return False
    finally:
        for handle in handles:
            mono.free(handle)
    return True


def _pick(mono: _Mono, candidates: list[int], args: Sequence[Any]) -> int:
    """Of the overloads with the right arity, the first that accepts the arguments."""
    if len(candidates) > 1:
        for method in candidates:
            if _accepts(mono, method, args):
                return method
    return candidates[0]


class NetMethod:
    """A .NET method, bound to an instance or static; call it with Python values."""

    def __init__(
        self, mono: _Mono, owner: str, name: str, methods: list[int], this: NetObject | None
    ) -> None:
        # Keeps the NetObject itself, not only its handle: in lib.Cls().method(...) the
        # temporary instance must stay alive until the call is made.
        self._mono, self._owner, self._name = mono, owner, name
        self._methods, self._this = methods, this

    def __call__(self, *args: Any) -> Any:
        mono = self._mono
        mono.attach()
        candidates = [m for m in self._methods if _arity(mono.lib, m) == len(args)]
        if not candidates:
            raise TypeError(
                f"{self._owner}.{self._name}() has no overload taking {len(args)} arguments"
            )
        this = self._this.handle if self._this is not None else 0
        return mono.invoke(_pick(mono, candidates, args), this, args)

    def __repr__(self) -> str:
        return f"<.NET method {self._owner}.{self._name}>"


class NetClass:
    """A .NET type: call it to construct an instance; its attributes are its static methods."""

    def __init__(self, mono: _Mono, klass: int) -> None:
        self._mono, self._klass = mono, klass
        self.__name__ = _class_name(mono.lib, klass)

    def __call__(self, *args: Any) -> NetObject:
        return self._mono.new(self._klass, args)

    def __getattr__(self, name: str) -> NetMethod:
        if name.startswith("__"):
            raise AttributeError(name)
        lib = self._mono.lib
        self._mono.attach()
        methods = [
            m
            for m in _methods(lib, self._klass)
            if _name(lib, m) == name and lib.mono_method_get_flags(m, None) & _METHOD_STATIC
        ]
        if not methods:
            raise AttributeError(f"{self.__name__} has no public static method {name!r}")
        return NetMethod(self._mono, self.__name__, name, methods, None)

    def __repr__(self) -> str:
        return f"<.NET class {self.__name__}>"


class NetObject:
    """A .NET object, held through a (movable) GC handle; its attributes are its methods."""

    def __init__(self, mono: _Mono, handle: int) -> None:
        self._mono, self.handle = mono, handle

    def _class(self) -> int:
        mono = self._mono
        mono.attach()
        pinned = mono.bb.bb_pin(self.handle)
        try:
            return mono.lib.mono_object_get_class(mono.target(pinned))  # type: ignore[no-any-return]
        finally:
            mono.free(pinned)

    def __getattr__(self, name: str) -> NetMethod:
        if name.startswith("__"):
            raise AttributeError(name)
        lib = self._mono.lib
        klass = self._class()
        methods = [
            m
            for m in _methods(lib, klass)
            if _name(lib, m) == name and not lib.mono_method_get_flags(m, None) & _METHOD_STATIC
        ]
        if not methods:
            raise AttributeError(f"{_class_name(lib, klass)} has no public method {name!r}")
        return NetMethod(self._mono, _class_name(lib, klass), name, methods, self)

    def __str__(self) -> str:
        mono = self._mono
        mono.attach()
        pinned = mono.bb.bb_pin(self.handle)
        try:
            return mono.text(pinned)
        finally:
            mono.free(pinned)

    def __repr__(self) -> str:
        return f"<.NET object {_class_name(self._mono.lib, self._class())}>"

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._mono.attach()  # __del__ may run on any thread
            self._mono.free(self.handle)


class NetNamespace:
    """The types of an assembly under one namespace, and its sub-namespaces, as attributes."""

    def __init__(self, name: str, classes: dict[str, NetClass]) -> None:
        self._name, self._classes = name, classes

    def __getattr__(self, name: str) -> NetClass | NetNamespace:
        if name.startswith("__"):
            raise AttributeError(name)
        full = f"{self._name}.{name}" if self._name else name
        if full in self._classes:
            return self._classes[full]
        if any(key.startswith(full + ".") for key in self._classes):
            return NetNamespace(full, self._classes)
        raise AttributeError(f"no .NET type or namespace {full!r} in the assembly")

    def __dir__(self) -> list[str]:
        prefix = self._name + "." if self._name else ""
        return sorted(
            {k[len(prefix) :].split(".")[0] for k in self._classes if k.startswith(prefix)}
        )

    def __repr__(self) -> str:
        return f"<.NET namespace {self._name or '(global)'}>"


class NetAssembly(NetNamespace):
    """A loaded assembly: its public top-level types, reachable by namespace."""

    def __init__(self, mono: _Mono, path: str, assembly: int) -> None:
        lib = mono.lib
        self.path, self.mono_version = path, mono.version
        image = lib.mono_assembly_get_image(assembly)
        classes = {}
        rows = lib.mono_image_get_table_rows(image, _TABLE_TYPEDEF)
        for row in range(2, rows + 1):  # row 1 is <Module>
            klass = lib.mono_class_get(image, 0x02000000 | row)
            if not klass or lib.mono_class_get_nesting_type(klass):
                continue
            if lib.mono_class_get_flags(klass) & _TYPE_VISIBILITY_MASK == _TYPE_PUBLIC:
                classes[_class_name(lib, klass)] = NetClass(mono, klass)
        super().__init__("", classes)

    def get_class_names(self) -> list[str]:
        """The full names of the assembly's public top-level types, in definition order."""
        return list(self._classes)

    def __repr__(self) -> str:
        return f"<.NET assembly {self.path}>"


_mono: _Mono | None = None
_lock = threading.Lock()


def start_mono(root: str | os.PathLike[str] | None = None) -> _Mono:
    """Start Mono from ``root`` (default: :func:`mono_root`) once per process.

    Later calls return the running runtime; Mono cannot be restarted in a process.
    Raises LibraryLoadError, saying how to provision it, when the root is incomplete.
    """
    global _mono
    with _lock:
        if _mono is None:
            folder = Path(root) if root is not None else mono_root()
            if missing := missing_parts(folder):
                raise LibraryLoadError(
                    f"the 32-bit Mono runtime for libtype 'net' is missing: no "
                    f"{', '.join(missing)}. {PROVISION_HINT}"
                )
            _mono = _Mono(folder)
        return _mono


def load_net(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> NetAssembly:
    """Load a .NET assembly (built for x86 or AnyCPU) and return its types by namespace."""
    mono = start_mono(root)
    mono.attach()
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise FileNotFoundError(full)
    assembly = mono.lib.mono_domain_assembly_open(mono.domain, os.fsencode(full))
    if not assembly:
        raise OSError(f"Mono could not load {full} as a .NET assembly")
    return NetAssembly(mono, full, assembly)
