"""Mono's C embedding API and bitbridge's helper as ctypes declares them, with the
metadata look-ups built on them (names, signatures, methods). Server side only."""

from __future__ import annotations

import ctypes
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
from typing import Any, TypeAlias

# MonoTypeEnum values (mono/metadata/blob.h)
T_VOID, T_BOOLEAN, T_CHAR, T_I1, T_U1, T_I2, T_U2, T_I4, T_U4, T_I8, T_U8, T_R4, T_R8, T_STRING = (
    range(1, 15)
)
T_ARRAY, T_I, T_U, T_OBJECT, T_SZARRAY = 0x14, 0x18, 0x19, 0x1C, 0x1D

CType: TypeAlias = "type[ctypes._SimpleCData[Any]]"
PRIMS: dict[int, tuple[CType, Any]] = {  # MonoTypeEnum -> (ctypes type, Python type)
    T_BOOLEAN: (c_uint8, bool),
    T_CHAR: (c_uint16, chr),
    T_I1: (c_int8, int),
    T_U1: (c_uint8, int),
    T_I2: (c_int16, int),
    T_U2: (c_uint16, int),
    T_I4: (c_int32, int),
    T_U4: (c_uint32, int),
    T_I8: (c_int64, int),
    T_U8: (c_uint64, int),
    T_R4: (c_float, float),
    T_R8: (c_double, float),
    T_I: (c_ssize_t, int),
    T_U: (c_size_t, int),
}
SIGNED = (T_I1, T_I2, T_I4, T_I8, T_I)
# array.array type codes whose items can be copied as they are into a .NET array
ARRAY_CODES = {
    T_R8: "d",
    T_R4: "f",
    T_I4: "i",
    T_U4: "I",
    T_I8: "q",
    T_U8: "Q",
    T_I2: "h",
    T_U2: "H",
}

METHOD_STATIC, METHOD_ACCESS_MASK, METHOD_PUBLIC = 0x10, 0x7, 0x6
TYPE_VISIBILITY_MASK, TYPE_PUBLIC, TYPE_ABSTRACT = 0x7, 0x1, 0x80
TABLE_TYPEDEF = 2

Signatures = dict[str, tuple[Any, list[Any]]]
API: Signatures = {  # libmonosgen; none of these returns a MonoObject*
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
HELPER_API: Signatures = {  # libbbmono (bbmono.c): every object comes back as a GC handle
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


def bind(library: ctypes.CDLL, signatures: Signatures) -> Any:
    """Declare the functions of ``library`` named in ``signatures``; return it."""
    for name, (restype, argtypes) in signatures.items():
        function = getattr(library, name)
        function.restype, function.argtypes = restype, argtypes
    return library


def method_name(lib: Any, method: int) -> str:
    return lib.mono_method_get_name(method).decode()  # type: ignore[no-any-return]


def arity(lib: Any, method: int) -> int:
    count: int = lib.mono_signature_get_param_count(lib.mono_method_signature(method))
    return count


def class_name(lib: Any, klass: int) -> str:
    namespace: str = lib.mono_class_get_namespace(klass).decode()
    name: str = lib.mono_class_get_name(klass).decode()
    return f"{namespace}.{name}" if namespace else name


def type_name(lib: Any, mono_type: int) -> str:
    pointer = lib.mono_type_get_name(mono_type)
    name = ctypes.string_at(pointer).decode()
    lib.mono_free(pointer)
    return name


def param_types(lib: Any, signature: int) -> list[int]:
    iterator, types = c_void_p(), []
    while param := lib.mono_signature_get_params(signature, byref(iterator)):
        types.append(param)
    return types


def public_methods(lib: Any, klass: int, inherited: bool = True) -> list[int]:
    """The public methods of ``klass`` and, when ``inherited``, of its base classes."""
    methods = []
    while klass:
        iterator = c_void_p()
        while method := lib.mono_class_get_methods(klass, byref(iterator)):
            if lib.mono_method_get_flags(method, None) & METHOD_ACCESS_MASK == METHOD_PUBLIC:
                methods.append(method)
        klass = lib.mono_class_get_parent(klass) if inherited else 0
    return methods
