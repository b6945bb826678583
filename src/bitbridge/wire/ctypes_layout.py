"""How this process lays out ctypes types, for both halves of the ctypes codec.

A ctypes type's layout depends on the process: ``long``, ``size_t``, ``wchar_t`` and
pointers have other sizes in a 32-bit process, and i386 Linux aligns ``double`` to 4
bytes. This module gives what :mod:`~bitbridge.wire.ctypes_values` (the sender) and
:mod:`~bitbridge.wire.ctypes_rebuild` (the receiver) share: the kind of every simple
type, the fields of a structure as this process lays them out, the form of a type's
*spec* (how the sender saw it, sent along with a value) and a type's layout
*fingerprint* (to compare unions).
"""

from __future__ import annotations

import ctypes
import sys
from _ctypes import CFuncPtr, _Pointer, _SimpleCData
from typing import Any, Final, TypeAlias

#: How the sender saw a type, a tagged tuple:
#:
#: - ``("s", ref, size, kind, order)``: a scalar. ``ref`` is the ctypes name of a
#:   standard type (the name of its class: ``"c_long"`` for ``c_int64`` on 64-bit
#:   Linux), or the class itself for a user's simple type (``"~Name"`` if it cannot be
#:   imported). ``kind``: a letter of :data:`KINDS` (``z``/``Z`` for a ``c_char_p`` or
#:   ``c_wchar_p`` on its own); ``order``: ``""``, or ``">"``/``"<"`` for a byte-swapped
#:   type of a ``BigEndianStructure``.
#: - ``("p", name, size)``: a pointer field (its value is always None: NULL).
#: - ``("a", element_spec, length, cls_or_None)``: an array; ``cls`` when the array
#:   class can be imported.
#: - ``("S", cls, ((name, spec, bits), ...))``: a structure, inherited fields first;
#:   ``bits``: the width of a bit field, 0 for a plain field.
#: - ``("U", cls, fingerprint)``: a union, with the sender's fingerprint.
Spec: TypeAlias = tuple[Any, ...]

#: A ctypes type. ctypes builds its types at run time (``c_int * 3``, ``POINTER(T)``)
#: and typeshed cannot follow, so the code that handles them takes Any.
CType: TypeAlias = Any

# The base class ctypes keeps private; every ctypes value is an instance of it.
CDATA: type = ctypes.c_int.__mro__[-2]
#: What ``ctypes.byref`` returns.
CARG: type = type(ctypes.byref(ctypes.c_int()))
#: The metaclasses of ctypes types (a user's subclass of one is one too).
CTYPE_METACLASSES: tuple[type, ...] = (
    type(ctypes.c_int),
    type(ctypes.Structure),
    type(ctypes.Union),
    type(ctypes.c_int * 1),
    type(ctypes.POINTER(ctypes.c_int)),
    type(ctypes.CFUNCTYPE(None)),
)

POINTER_FIX: Final = (
    "its address means nothing in the other process. Send the data instead and build "
    "the pointer in the server, in the remote method"
)

#: Kind of a simple type by its ``_type_`` code: signed and unsigned integers, floats,
#: bools, char, wchar_t, pointers (char*, wchar_t*, void*, BSTR) and py_object.
KINDS: Final = {
    **dict.fromkeys("bhilq", "i"),
    **dict.fromkeys("BHILQ", "u"),
    **dict.fromkeys("fdg", "f"),
    **dict.fromkeys("?v", "?"),
    "c": "c",
    "u": "w",
    **dict.fromkeys("zZPX", "p"),
    "O": "O",
}
KIND_WORDS: Final = {
    "i": "signed integer",
    "u": "unsigned integer",
    "f": "float",
    "?": "bool",
    "c": "char",
    "w": "wchar_t",
    "p": "pointer",
    "O": "py_object",
}

_STD_NAMES: Final = (
    "c_bool", "c_char", "c_wchar", "c_byte", "c_ubyte", "c_short", "c_ushort", "c_int",
    "c_uint", "c_long", "c_ulong", "c_longlong", "c_ulonglong", "c_float", "c_double",
    "c_longdouble", "c_char_p", "c_wchar_p", "c_void_p", "c_size_t", "c_ssize_t",
    "c_int8", "c_int16", "c_int32", "c_int64", "c_uint8", "c_uint16", "c_uint32",
    "c_uint64", "c_time_t",
)  # fmt: skip


def _std_tables() -> tuple[dict[type, tuple[str, str]], dict[str, type]]:
    """The standard simple types by class, as (class name, byte order), and by name.

    An alias (``c_int64`` is ``c_long`` on 64-bit Linux) has its class's name; the byte
    order is ">" or "<" for the swapped twins that BigEndianStructure uses, "" else."""
    by_type: dict[type, tuple[str, str]] = {}
    by_name: dict[str, type] = {}
    for alias in _STD_NAMES:
        cls = getattr(ctypes, alias, None)
        if cls is None:
            continue
        # A sender names a type by its class, which may be an alias here (c_int is
        # c_long on 32-bit systems), so every alias resolves.
        by_name[alias] = cls
        by_name[cls.__name__] = cls
        by_type.setdefault(cls, (cls.__name__, ""))
    for cls, (name, _) in list(by_type.items()):
        for attr, order in (("__ctype_be__", ">"), ("__ctype_le__", "<")):
            twin = getattr(cls, attr, None)
            if twin is not None and twin is not cls:
                by_type[twin] = (name, order)
    return by_type, by_name


#: (name, byte order) of each standard simple type and its swapped twins; the standard
#: types by each of their names.
STD_TYPES, STD_BY_NAME = _std_tables()

# Categories of ctypes types.
SCALAR, POINTER, STRUCT, UNION, ARRAY, OBJECT = "s", "p", "S", "U", "a", "O"


def category(cls: CType) -> str:
    """The category of a ctypes type; TypeError for what is not one."""
    if issubclass(cls, ctypes.Structure):
        return STRUCT
    if issubclass(cls, ctypes.Union):
        return UNION
    if issubclass(cls, ctypes.Array):
        return ARRAY
    if issubclass(cls, (_Pointer, CFuncPtr)):
        return POINTER
    if issubclass(cls, _SimpleCData):
        found = KINDS.get(getattr(cls, "_type_", ""))
        if found == "p":
            return POINTER
        if found == "O":
            return OBJECT
        if found is not None:
            return SCALAR
    raise TypeError(f"{cls.__name__} is not a ctypes type bitbridge knows")


def kind(cls: CType) -> str:
    """The letter of :data:`KINDS` of a simple type."""
    letter: str = KINDS[cls._type_]
    return letter


def importable(cls: CType) -> bool:
    """Whether ``cls`` is found again by its module and qualified name, as pickle does."""
    found: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is cls


def type_name(spec: Spec) -> str:
    """A type's name as the sender saw it, for messages."""
    tag = spec[0]
    if tag == ARRAY:
        return f"{type_name(spec[1])}[{spec[2]}]"
    if tag == POINTER:
        return str(spec[1])
    ref = spec[1]
    return ref.__name__ if isinstance(ref, type) else str(ref).lstrip("~")


# --- layouts -------------------------------------------------------------------------


class Field:
    """One field of a structure or union as this process lays it out."""

    __slots__ = (
        "bit_offset",
        "bits",
        "broken",
        "category",
        "name",
        "offset",
        "overlaps",
        "type",
    )

    def __init__(self, name: str, ftype: CType, bits: int, offset: int, bit_offset: int) -> None:
        self.name = name
        self.type = ftype
        self.bits = bits
        self.offset = offset
        self.bit_offset = bit_offset
        self.category = category(ftype)
        # Before 3.14, ctypes can put a bit field after one of a larger type so that it
        # runs past the end of its own type (a 32-bit c_uint field at bit 1), and then
        # reads and writes it wrongly.
        self.broken = bool(bits) and bit_offset + bits > 8 * ctypes.sizeof(ftype)
        #: The field whose bits ctypes lays this one over (that bug again), or "".
        self.overlaps = ""

    def refuse_broken(self, cls: CType, path: str) -> None:
        """TypeError if ctypes cannot read or write this bit field faithfully here."""
        bug = (
            "(a ctypes bug before Python 3.14, with bit fields of mixed types). Give "
            "neighbouring bit fields the same type"
        )
        if self.broken:
            raise TypeError(
                f"{path}: ctypes lays this {self.bits}-bit field of {self.type.__name__} in "
                f"{cls.__name__} out from bit {self.bit_offset} of its "
                f"{ctypes.sizeof(self.type)}-byte unit, past the unit's end, and so reads "
                f"and writes it wrongly {bug}"
            )
        if self.overlaps:
            raise TypeError(
                f"{path}: ctypes lays this field of {cls.__name__} out over bits of its "
                f"field {self.overlaps}, so writing one changes the other {bug}"
            )


_LAYOUTS: dict[type, tuple[Field, ...]] = {}


def _bit_info(descriptor: Any) -> tuple[int, int]:
    """(bit offset, bit width) of a field descriptor; (0, 0) if it is no bit field.

    Up to 3.13 a bit field's ``size`` holds its width in the high 16 bits and its bit
    offset in the low ones; 3.14 has attributes for both."""
    if hasattr(descriptor, "bit_size"):
        if descriptor.is_bitfield:
            return int(descriptor.bit_offset), int(descriptor.bit_size)
        return 0, 0
    size = int(descriptor.size)
    return (size & 0xFFFF, size >> 16) if size >> 16 else (0, 0)


def layout(cls: CType) -> tuple[Field, ...]:
    """The fields of a structure or union class, inherited ones first (cached: a ctypes
    type is final once it has instances)."""
    cached = _LAYOUTS.get(cls)
    if cached is not None:
        return cached
    fields: list[Field] = []
    for klass in reversed(cls.__mro__):
        for entry in vars(klass).get("_fields_", ()):
            name, ftype = entry[0], entry[1]
            descriptor = getattr(cls, name)
            bit_offset, bits = _bit_info(descriptor)
            if len(entry) > 2 and not bits:  # a bit field as wide as its type
                bits = int(entry[2])
            fields.append(Field(name, ftype, bits, int(descriptor.offset), bit_offset))
    found = tuple(fields)
    if issubclass(cls, ctypes.Structure) and any(f.bits for f in found):
        _find_overlaps(cls, found)
    _LAYOUTS[cls] = found
    return found


def _find_overlaps(cls: CType, fields: tuple[Field, ...]) -> None:
    """Mark the fields of a structure with bit fields that ctypes lays over one another:
    set each bit field to all ones in a zeroed instance and look at the others."""
    for f in fields:
        if not f.bits or f.broken or f.category != SCALAR or kind(f.type) not in "iu":
            continue
        obj = cls.__new__(cls)  # zeroed; a user's __init__ is not called
        setattr(obj, f.name, -1 if kind(f.type) == "i" else (1 << f.bits) - 1)
        for other in fields:
            if other is f or (other.bits and other.broken):
                continue
            if other.bits:
                touched = bool(getattr(obj, other.name))
            else:
                start = ctypes.addressof(obj) + other.offset
                touched = any(ctypes.string_at(start, ctypes.sizeof(other.type)))
            if touched:
                f.overlaps, other.overlaps = other.name, f.name


_FINGERPRINTS: dict[type, tuple[Any, ...]] = {}


def layout_fingerprint(cls: CType) -> tuple[Any, ...]:
    """This process's layout of a ctypes type, as plain nested tuples.

    Two processes lay a type out alike exactly when its fingerprints are equal: the same
    size, and every scalar inside at the same offset (and bit position, in a bit field)
    with the same kind, size and byte order. Alignment is left out: it changes no byte
    of the type itself. A union crosses as its bytes only between equal fingerprints."""
    cached = _FINGERPRINTS.get(cls)
    if cached is not None:
        return cached
    tag = category(cls)
    fingerprint: tuple[Any, ...]
    if tag in (STRUCT, UNION):
        members = tuple(
            (f.name, f.offset, f.bit_offset, f.bits, layout_fingerprint(f.type))
            for f in layout(cls)
        )
        fingerprint = (tag, ctypes.sizeof(cls), members)
    elif tag == ARRAY:
        element: CType = cls._type_
        fingerprint = (ARRAY, layout_fingerprint(element), cls._length_)
    elif tag == SCALAR:
        order = STD_TYPES.get(cls, ("", ""))[1]
        fingerprint = (SCALAR, kind(cls), ctypes.sizeof(cls), order)
    else:  # a pointer or a py_object
        fingerprint = (SCALAR, "p" if tag == POINTER else "O", ctypes.sizeof(cls), "")
    _FINGERPRINTS[cls] = fingerprint
    return fingerprint


def _fingerprint_words(fingerprint: tuple[Any, ...]) -> str:
    tag = fingerprint[0]
    if tag == SCALAR:
        _, letter, size, order = fingerprint
        swapped = {">": " big-endian", "<": " little-endian"}.get(order, "")
        return f"a {size}-byte{swapped} {KIND_WORDS[letter]}"
    if tag == ARRAY:
        return f"an array of {fingerprint[2]}"
    return f"a {'structure' if tag == STRUCT else 'union'} of {fingerprint[1]} bytes"


def fingerprint_difference(mine: Any, theirs: Any, path: str) -> str:
    """Where two fingerprints first differ, in words (the sender's is ``theirs``)."""
    if mine[0] != theirs[0] or mine[0] == SCALAR:
        if mine == theirs:
            return ""
        return (
            f"{path} is {_fingerprint_words(theirs)} in the sender, "
            f"{_fingerprint_words(mine)} in the receiver"
        )
    if mine[0] == ARRAY:
        if mine[2] != theirs[2]:
            return f"{path} has {theirs[2]} elements in the sender, {mine[2]} in the receiver"
        return fingerprint_difference(mine[1], theirs[1], path + "[]")
    for (name, offset, *_, sub), (their_name, their_offset, *_, their_sub) in zip(
        mine[2], theirs[2], strict=False
    ):
        here = f"{path}.{name}"
        if name != their_name:
            return f"{path} has member {their_name!r} in the sender where the receiver has {name!r}"
        if offset != their_offset:
            return f"{here} is at offset {their_offset} in the sender, {offset} in the receiver"
        difference = fingerprint_difference(sub, their_sub, here)
        if difference:
            return difference
    if len(mine[2]) != len(theirs[2]):
        return f"{path} has {len(theirs[2])} members in the sender, {len(mine[2])} in the receiver"
    if mine[1] != theirs[1]:
        return f"{path} is {theirs[1]} bytes in the sender, {mine[1]} in the receiver"
    # Only bit positions are left to differ.
    return f"{path}: its bit fields lie at other bit positions in the two processes"


def pointer_member(fingerprint: Any, path: str) -> str | None:
    """The path of the first pointer or py_object inside a fingerprint, or None."""
    tag = fingerprint[0]
    if tag == SCALAR:
        return path if fingerprint[1] in "pO" else None
    if tag == ARRAY:
        return pointer_member(fingerprint[1], path + "[]")
    for name, _, _, _, sub in fingerprint[2]:
        found = pointer_member(sub, f"{path}.{name}")
        if found:
            return found
    return None
