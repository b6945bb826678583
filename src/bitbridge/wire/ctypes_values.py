"""ctypes values and types cross between a 64-bit and a 32-bit process by value, field by field.

A ctypes structure pickled as its raw bytes means something else in a process whose
``long``, ``size_t``, ``wchar_t`` or pointers have another size, or which aligns
``double`` differently. So a ctypes value crosses as a description without layout: its
class, by reference (both processes import it), and the values of its fields as Python
numbers, bytes and strings. The receiver builds an instance of its own class in its own
layout (:mod:`~bitbridge.wire.ctypes_rebuild`), checks that every value fits its own
field, and refuses, with an error that names the field, what it cannot rebuild
faithfully. A ctypes type crosses by name, as pickle sends any class, or, for the types
ctypes makes at run time (``c_double * 3``, ``POINTER(T)``, ``CFUNCTYPE(...)``), by what
it is made of: the receiver gets its own type of that name or make.

:func:`reduce` gives the reduce tuple for ``pickle.Pickler.reducer_override``;
:func:`dumps` pickles one object with it. docs/pages/guide/data.md says what crosses and
how, for users.
"""

from __future__ import annotations

import ctypes
import io
import pickle
from _ctypes import CFuncPtr, _Pointer, _SimpleCData
from typing import Any, TypeAlias

from bitbridge.wire.ctypes_layout import (
    ARRAY,
    CARG,
    CDATA,
    CTYPE_METACLASSES,
    POINTER,
    POINTER_FIX,
    SCALAR,
    STD_TYPES,
    STRUCT,
    UNION,
    CType,
    Spec,
    category,
    importable,
    kind,
    layout,
    layout_fingerprint,
    pointer_member,
)
from bitbridge.wire.ctypes_rebuild import FORMAT, rebuild, rebuild_type

#: What :func:`describe` returns and :func:`~bitbridge.wire.ctypes_rebuild.rebuild`
#: takes: ``(FORMAT, spec, value)``.
Description: TypeAlias = tuple[int, Spec, Any]


def is_ctypes_value(obj: object) -> bool:
    """Whether ``obj`` is a ctypes instance or a ``byref()`` result (which
    :func:`describe` refuses). By its type alone: a netref is never one."""
    return issubclass(type(obj), (CDATA, CARG))


def is_ctypes_type(obj: object) -> bool:
    """Whether ``obj`` is a ctypes type (a class); a netref is never one."""
    return issubclass(type(obj), CTYPE_METACLASSES)


def reduce(obj: object) -> Any:
    """A reduce tuple for a ctypes value, or for a ctypes type that pickle cannot send by
    name; ``NotImplemented`` for anything else (other ctypes types go by name).

    Raises TypeError for what cannot cross: see :func:`describe` and :func:`type_spec`."""
    cls = type(obj)
    if issubclass(cls, (CDATA, CARG)):
        return rebuild, describe(obj)
    if issubclass(cls, CTYPE_METACLASSES) and not importable(obj):
        return rebuild_type, (type_spec(obj, getattr(obj, "__name__", "?")),)
    return NotImplemented


class Pickler(pickle.Pickler):
    """A pickler that sends ctypes values and types by :func:`reduce`."""

    def reducer_override(self, obj: Any) -> Any:
        """:func:`reduce`: ctypes values by value; the usual pickling for the rest."""
        return reduce(obj)


def dumps(obj: object) -> bytes:
    """Pickle ``obj`` with :class:`Pickler` (``pickle.loads`` rebuilds it)."""
    buffer = io.BytesIO()
    Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


# --- specs ---------------------------------------------------------------------------


def _class_ref(cls: CType) -> type | str:
    """The class itself where pickle can send it by reference; else "~" and its name,
    which is good for messages only."""
    ref: type | str = cls if importable(cls) else "~" + cls.__name__
    return ref


def _scalar_ref(cls: CType) -> tuple[type | str, str]:
    """(reference, byte order) of a simple type: a standard type by name, others by
    class reference."""
    std = STD_TYPES.get(cls)
    if std is not None:
        return std
    return _class_ref(cls), ""


_SPECS: dict[type, Spec] = {}


def _spec_of(cls: CType, where: str) -> Spec:
    """How this process describes a type to the other one (cached). ``where`` names
    the place of the type for errors."""
    cached = _SPECS.get(cls)
    if cached is not None:
        return cached
    tag = category(cls)
    spec: Spec
    if tag == SCALAR:
        ref, order = _scalar_ref(cls)
        spec = (SCALAR, ref, ctypes.sizeof(cls), kind(cls), order)
    elif tag == POINTER:
        spec = (POINTER, cls.__name__, ctypes.sizeof(cls))
    elif tag == STRUCT:
        fields = []
        for f in layout(cls):
            here = f"{cls.__name__}.{f.name}"
            if f.bits and f.category == SCALAR and kind(f.type) == "?":
                raise TypeError(
                    f"{here}: a c_bool bit field cannot cross: ctypes before Python 3.14 "
                    "reads and writes it as the whole byte. Declare it c_uint8 (or "
                    "c_uint) with the same width"
                )
            fields.append((f.name, _spec_of(f.type, here), f.bits))
        spec = (STRUCT, _class_ref(cls), tuple(fields))
    elif tag == UNION:
        spec = (UNION, _class_ref(cls), layout_fingerprint(cls))
    elif tag == ARRAY:
        element: CType = cls._type_
        named = cls if importable(cls) else None
        spec = (ARRAY, _spec_of(element, where + "[]"), cls._length_, named)
    else:
        raise TypeError(
            f"{where}: a py_object holds a reference to an object of this process and "
            "cannot cross; send the object itself as an argument"
        )
    _SPECS[cls] = spec
    return spec


def _require_rebuildable(spec: Spec, path: str) -> None:
    """Refuse a top-level type the receiver could not build from its spec."""
    tag = spec[0]
    if tag == ARRAY:
        if spec[3] is None:
            _require_rebuildable(spec[1], path + "[]")
        return
    if tag == POINTER:
        raise TypeError(f"{path}: an array of pointers cannot cross; {POINTER_FIX}")
    if isinstance(spec[1], str) and spec[1].startswith("~"):
        raise TypeError(_not_importable(spec[1][1:], path))


def _not_importable(name: str, path: str) -> str:
    """The message for a class that the other process cannot import."""
    return (
        f"{path}: class {name} cannot be found by its module and qualified name, so the "
        "other process cannot import it; define it at the top level of a module that "
        "both processes import"
    )


# --- types ---------------------------------------------------------------------------


def type_spec(cls: CType, path: str) -> Any:
    """How a ctypes type crosses: the class itself where pickle can name it, else what
    it is made of (``("s", name, order)`` for a byte-swapped standard type, ``("a",
    element, length)``, ``("P", target)``, ``("F", restype, argtypes, flags)``)."""
    if importable(cls):
        return cls
    std = STD_TYPES.get(cls)
    if std is not None:
        return ("s", *std)
    if issubclass(cls, ctypes.Array):
        return ("a", type_spec(cls._type_, path + "[]"), cls._length_)
    if issubclass(cls, _Pointer):
        return ("P", type_spec(cls._type_, path + ".contents"))
    if issubclass(cls, CFuncPtr):
        restype = cls._restype_
        return (
            "F",
            None if restype is None else type_spec(restype, path + ".restype"),
            tuple(type_spec(arg, f"{path}.argtypes") for arg in cls._argtypes_ or ()),
            cls._flags_,
        )
    raise TypeError(_not_importable(cls.__name__, path))


# --- values --------------------------------------------------------------------------


def describe(obj: object) -> Description:
    """Describe a ctypes value without its layout, as ``(FORMAT, spec, value)``: plain
    data and class references.

    Raises TypeError for what cannot cross by value: pointers that are not NULL,
    ``byref()`` results, py_object, unions that hold pointers, and classes the other
    process cannot import."""
    if isinstance(obj, CARG):
        raise TypeError(f"a byref() result cannot cross: {POINTER_FIX} (call byref() there)")
    if not isinstance(obj, CDATA):
        raise TypeError(f"{type(obj).__name__} is not a ctypes value")
    value: Any = obj
    cls = type(obj)
    path = cls.__name__
    code = getattr(cls, "_type_", None)
    if issubclass(cls, _SimpleCData) and code in ("z", "Z"):
        # A c_char_p or c_wchar_p on its own crosses as the string it points to.
        ref, order = _scalar_ref(cls)
        spec: Spec = (SCALAR, ref, ctypes.sizeof(cls), code, order)
        _require_rebuildable(spec, path)
        return FORMAT, spec, value.value
    tag = category(cls)
    if tag == POINTER:
        raise TypeError(
            f"{path}: a pointer cannot cross: {POINTER_FIX}; pass None for a NULL pointer"
        )
    spec = _spec_of(cls, path)
    _require_rebuildable(spec, path)
    if tag == SCALAR:
        return FORMAT, spec, value.value
    return FORMAT, spec, _describe(value, spec, path)


def _describe(obj: Any, spec: Spec, path: str) -> Any:
    """The value of ``obj``, an instance of the type of ``spec``, as plain data."""
    tag = spec[0]
    if tag == STRUCT:
        return _describe_struct(obj, spec, path)
    if tag == ARRAY:
        return _describe_array(obj, spec, path)
    return _describe_union(obj, spec, path)


def _describe_struct(obj: Any, spec: Spec, path: str) -> tuple[Any, ...]:
    values: list[Any] = []
    address = 0
    for f, (_, fspec, _) in zip(layout(type(obj)), spec[2], strict=True):
        tag = fspec[0]
        if tag == SCALAR:
            f.refuse_broken(type(obj), f"{path}.{f.name}")
            value = getattr(obj, f.name)
            values.append(value.value if isinstance(value, _SimpleCData) else value)
        elif tag == STRUCT:
            values.append(_describe_struct(getattr(obj, f.name), fspec, f"{path}.{f.name}"))
        elif tag == UNION:
            values.append(_describe_union(getattr(obj, f.name), fspec, f"{path}.{f.name}"))
        else:
            address = address or ctypes.addressof(obj)
            view = f.type.from_address(address + f.offset)
            if tag == ARRAY:
                values.append(_describe_array(view, fspec, f"{path}.{f.name}"))
            else:
                _null_only(address + f.offset, fspec, f"{path}.{f.name}")
                values.append(None)
    return tuple(values)


def _null_only(address: int, spec: Spec, path: str) -> None:
    """Raise TypeError unless the pointer at ``address`` is NULL."""
    if ctypes.c_void_p.from_address(address).value:
        raise TypeError(
            f"{path}: this {spec[1]} field is not NULL, and a pointer cannot cross: "
            f"{POINTER_FIX}. (A NULL pointer field crosses as NULL.)"
        )


def _describe_array(arr: Any, spec: Spec, path: str) -> Any:
    element = spec[1]
    tag = element[0]
    if tag == SCALAR:
        letter = element[3]
        items = arr[:]
        if letter == "c":
            data = items if isinstance(items, bytes) else b"".join(i.value for i in items)
            return data.rstrip(b"\0")
        if letter == "w":
            text = items if isinstance(items, str) else "".join(i.value for i in items)
            return text.rstrip("\0")
        if items and isinstance(items[0], _SimpleCData):
            return tuple(item.value for item in items)
        return tuple(items)
    if tag == POINTER:
        address = ctypes.addressof(arr)
        size = element[2]
        for index in range(len(arr)):
            _null_only(address + index * size, element, f"{path}[{index}]")
        return None
    return tuple(_describe(arr[index], element, f"{path}[{index}]") for index in range(len(arr)))


def _describe_union(obj: Any, spec: Spec, path: str) -> bytes:
    member = pointer_member(spec[2], path)
    if member is not None:
        raise TypeError(
            f"{path}: union {type(obj).__name__} holds a pointer ({member}), and a union "
            f"crosses as its bytes, so it cannot cross: {POINTER_FIX}"
        )
    return ctypes.string_at(ctypes.addressof(obj), ctypes.sizeof(obj))
