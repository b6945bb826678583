"""The process-wide Mono runtime: starting it, calling methods, and converting values
between Python and .NET. Server side only.

Rules that keep Mono alive (each one was a crash while prototyping): every thread is
attached to Mono before its first Mono call, even a metadata look-up; Python never holds
a raw ``MonoObject*``, only GC handles, because SGen moves objects; ``ToString()`` is
invoked as a method, never through ``mono_object_to_string()``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Sequence
from ctypes import byref, c_double, c_int32, c_size_t, c_uint8, c_uint32, c_void_p
from pathlib import Path
from typing import Any

from bitbridge.errors import LibraryLoadError, NetError
from bitbridge.paths import (
    MONO_HELPER,
    MONO_ROOT_ENV_VAR,
    MONO_RUNTIME,
    missing_mono_parts,
    mono_root,
)
from bitbridge.server.dotnet.capi import (
    API,
    HELPER_API,
    PRIMS,
    T_ARRAY,
    T_OBJECT,
    T_STRING,
    T_SZARRAY,
    T_VOID,
    TYPE_ABSTRACT,
    CType,
    arity,
    bind,
    class_name,
    method_name,
    param_types,
    public_methods,
    type_name,
)
from bitbridge.server.dotnet.objects import NetObject, pick
from bitbridge.server.dotnet.values import check, flatten, nest, raw_items

PROVISION_HINT = (
    "Provision it with `bitbridge mono32 install` (Debian/Ubuntu; needs apt's i386 "
    "architecture, gcc-multilib and mono-mcs), or set "
    f"{MONO_ROOT_ENV_VAR} to a Mono root made that way."
)


def missing_parts(root: Path) -> list[str]:
    """Return the files a usable Mono root lacks (none when it is complete)."""
    return [str(root / part) for part in missing_mono_parts(root)]


class _Detacher:
    """Kept in a thread's ``threading.local``: dropped when the thread ends, detaching it."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.lib.mono_thread_detach(self.lib.mono_thread_current())


class Mono:
    """The process-wide Mono runtime: one per process, as Mono cannot be restarted."""

    def __init__(self, root: Path) -> None:
        # Read by Mono as it starts. no-gdb-backtrace: a crash aborts (status 134) instead
        # of running gdb, writing mono_crash.* files into the current folder and, when the
        # crash is on a thread, exiting with status 0. No shared area: no /dev/shm/mono.<pid>
        # is left behind when the server is killed.
        os.environ.setdefault("MONO_DEBUG", "no-gdb-backtrace")
        os.environ.setdefault("MONO_DISABLE_SHARED_AREA", "1")
        # RTLD_GLOBAL: the helper resolves its mono_* symbols against this library.
        self.lib = bind(ctypes.CDLL(str(root / MONO_RUNTIME), mode=ctypes.RTLD_GLOBAL), API)
        self.bb = bind(ctypes.CDLL(str(root / MONO_HELPER)), HELPER_API)
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
        types = param_types(lib, signature)
        if len(args) != len(types):
            raise TypeError(
                f"{method_name(lib, method)}() takes {len(types)} arguments ({len(args)} given)"
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
            if lib.mono_type_get_type(lib.mono_signature_get_return_type(signature)) == T_VOID:
                return None
            return self._py_value(result) if result else None
        finally:
            self.free(result)

    def new(self, klass: int, args: Sequence[Any]) -> NetObject:
        """Construct an instance of ``klass`` with the public constructor taking ``args``."""
        lib = self.lib
        self.attach()
        if lib.mono_class_get_flags(klass) & TYPE_ABSTRACT:  # static classes are abstract too
            raise TypeError(
                f"{class_name(lib, klass)} is abstract or static: it cannot be instantiated"
            )
        # Its own constructors only: the inherited System.Object() would construct anything.
        constructors = [
            method
            for method in public_methods(lib, klass, inherited=False)
            if method_name(lib, method) == ".ctor" and arity(lib, method) == len(args)
        ]
        if not constructors:
            raise TypeError(
                f"{class_name(lib, klass)} has no public constructor taking {len(args)} arguments"
            )
        instance = NetObject(self, self.bb.bb_new(self.domain, klass))
        self.invoke(pick(self, constructors, args), instance.handle, args)
        return instance

    # Python -> .NET

    def to_net(self, ptype: int, value: Any, keep: list[Any], handles: list[int]) -> int | None:
        """The ``params[]`` entry of one argument: the address of a value cell for a value
        type, the address of a pinned object for a reference type."""
        lib = self.lib
        if lib.mono_type_is_byref(ptype):
            raise TypeError("ref and out parameters are not supported")
        kind = lib.mono_type_get_type(ptype)
        if kind in PRIMS:
            cell = PRIMS[kind][0](check(kind, value))
            keep.append(cell)
            return ctypes.addressof(cell)
        if value is None:
            return None
        if isinstance(value, NetObject):
            pinned = self.bb.bb_pin(value.handle)
            handles.append(pinned)
            return self.target(pinned)
        if kind == T_STRING:
            if not isinstance(value, str):
                raise TypeError(f"expected str, got {type(value).__name__}")
            return self.target(self._string(value, handles))
        if kind in (T_SZARRAY, T_ARRAY):
            array_class = lib.mono_class_from_mono_type(ptype)
            return self.target(self._array(array_class, value, handles))
        if kind == T_OBJECT:
            return self.target(self._box(value, handles))
        raise TypeError(
            f"cannot convert {type(value).__name__} to the .NET type {type_name(lib, ptype)}"
        )

    def _string(self, text: str, handles: list[int]) -> int:
        data = text.encode("utf-16-le", "surrogatepass")
        pinned: int = self.bb.bb_string(self.domain, data, len(data) // 2)
        handles.append(pinned)
        return pinned

    def _box(self, value: Any, handles: list[int]) -> int:
        if isinstance(value, str):
            return self._string(value, handles)
        kinds: dict[type, tuple[bytes, CType]] = {
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
        if kind not in PRIMS and not (kind == T_STRING and rank == 1):
            raise TypeError(f"arrays of {class_name(lib, element_class)} are not supported")
        data: Any = None
        if kind in PRIMS:  # convert every element before allocating anything
            ctype = PRIMS[kind][0]
            data = raw_items(value, kind, ctype) if rank == 1 else None
            if data is not None:
                shape = [len(data) // ctypes.sizeof(ctype)]
            else:
                shape, flat = flatten(value, rank)
                data = bytes((ctype * len(flat))(*[check(kind, item) for item in flat]))
        else:
            shape, flat = flatten(value, rank)
            if any(item is not None and not isinstance(item, str) for item in flat):
                raise TypeError("expected a sequence of str")
        pinned: int = self.bb.bb_array(self.domain, array_class, (c_size_t * rank)(*shape))
        handles.append(pinned)
        address = self.target(pinned)
        if kind in PRIMS:
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
        if kind in PRIMS:  # a boxed primitive
            ctype, convert = PRIMS[kind]
            return convert(ctype.from_address(lib.mono_object_unbox(address)).value)
        if kind == T_STRING:
            return self._py_string(address)
        if kind in (T_SZARRAY, T_ARRAY):
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
        elif kind in PRIMS:
            ctype, convert = PRIMS[kind]
            first = lib.mono_array_addr_with_size(address, ctypes.sizeof(ctype), 0)
            flat = [convert(item) for item in (ctype * total).from_address(first)]
        else:  # references: each element is pinned through a handle made in C
            for index in range(total):
                element = self.bb.bb_array_element(pinned, index)
                try:
                    flat.append(self._py_value(element) if element else None)
                finally:
                    self.free(element)
        return nest(flat, shape)

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
        return NetError(class_name(self.lib, klass), self.text(pinned))


_mono: Mono | None = None
_lock = threading.Lock()


def start_mono(root: str | os.PathLike[str] | None = None) -> Mono:
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
            _mono = Mono(folder)
        return _mono
