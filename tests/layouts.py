"""ctypes structures as a user's module declares them, and the bridge that checks them.

Both processes import this module, so the server imports only the standard library,
bitbridge and the two helper modules next to it. The first four structures are the table
of issue 15 (tests/data/layouts.c declares them in C); the others cover one feature each.
"""

from __future__ import annotations

import ctypes
from _ctypes import CFuncPtr
from ctypes import (
    CFUNCTYPE,
    POINTER,
    BigEndianStructure,
    Structure,
    Union,
    c_bool,
    c_char,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int16,
    c_int32,
    c_long,
    c_longdouble,
    c_longlong,
    c_short,
    c_size_t,
    c_ssize_t,
    c_ubyte,
    c_uint,
    c_uint8,
    c_uint16,
    c_uint32,
    c_ulong,
    c_void_p,
    c_wchar,
)
from typing import Any

import ctypes_c_twins
import ctypes_registry

from bitbridge import Bridge, remote32


class IntDouble(Structure):
    _fields_ = [("a", c_int), ("b", c_double)]


class LongInt(Structure):
    _fields_ = [("a", c_long), ("b", c_int)]


class Mixed(Structure):
    _fields_ = [("c", c_char), ("d", c_double), ("s", c_short)]


class Nested(Structure):
    _fields_ = [("inner", IntDouble), ("n", c_size_t), ("xs", c_double * 3)]


class Packed(Structure):
    _pack_ = 1
    _fields_ = [("c", c_char), ("d", c_double), ("i", c_int), ("n", c_size_t)]


class Bits(Structure):
    # Neighbouring bit fields of one type: ctypes before 3.14 lays a bit field that follows
    # one of a larger type out past the end of its own type (and the codec refuses it).
    # d starts a new 4-byte unit on i386 and Windows (it would straddle one) and e fills
    # it, so that flag lies where GCC and MSVC put it too.
    _fields_ = [
        ("a", c_uint, 3),
        ("b", c_int, 5),
        ("c", c_uint, 10),
        ("d", c_long, 20),
        ("e", c_long, 12),
        ("flag", c_bool),
    ]


class Text(Structure):
    _fields_ = [
        ("name", c_char * 8),
        ("wide", c_wchar * 6),
        ("w", c_wchar),
        ("grid", (c_char * 3) * 2),
    ]


class Sizes(Structure):
    """The types whose size differs between 64-bit and 32-bit Linux."""

    _fields_ = [
        ("l", c_long),
        ("ul", c_ulong),
        ("sz", c_size_t),
        ("ssz", c_ssize_t),
        ("ld", c_longdouble),
        ("w", c_wchar),
        ("ll", c_longlong),
        ("flag", c_bool),
    ]


class Point(Structure):
    _fields_ = [("x", c_short), ("y", c_short)]


class Shapes(Structure):
    _fields_ = [("points", Point * 3), ("grid", (c_int * 3) * 2), ("count", c_ubyte)]


class XY(Structure):
    _fields_ = [("x", c_int), ("y", c_int)]


class WithAnon(Structure):
    _anonymous_ = ("xy",)
    _fields_ = [("tag", c_char), ("xy", XY), ("d", c_double)]


class BigEnd(BigEndianStructure):
    _fields_ = [
        ("magic", c_uint32),
        ("value", c_int16),
        ("arr", c_uint16 * 2),
        ("d", c_double),
        ("l", c_long),
    ]


class StableUnion(Union):
    _fields_ = [("i", c_int32), ("f", c_float), ("b", c_uint8 * 4)]


class HasStableUnion(Structure):
    _fields_ = [("tag", c_int), ("u", StableUnion), ("d", c_double)]


class LongUnion(Union):
    """Laid out differently on 64-bit and 32-bit Linux: c_long is 8 bytes or 4."""

    _fields_ = [("l", c_long), ("i", c_int)]


class DoubleUnion(Union):
    """16 bytes on x86-64 (a double aligns to 8), 12 on i386 (to 4)."""

    _fields_ = [("d", c_double), ("c", c_char * 12)]


class HasLongUnion(Structure):
    _fields_ = [("tag", c_int), ("u", LongUnion)]


class WithPointers(Structure):
    _fields_ = [
        ("n", c_int),
        ("p", POINTER(c_int)),
        ("s", c_char_p),
        ("v", c_void_p),
        ("f", CFUNCTYPE(c_int, c_int)),
        ("ps", c_void_p * 2),
    ]


class Longs(Structure):
    _fields_ = [("n", c_int), ("xs", c_long * 3), ("grid", (c_ulong * 2) * 2)]


class Handle(ctypes.c_int):
    """A simple type of the user's own, which crosses by reference like a structure."""


class Derived(IntDouble):
    _fields_ = [("c", c_short), ("n", c_size_t)]


#: The feature structures checked from inside C by generated code (ctypes_c_twins).
C_CHECKED = [
    "IntDouble",
    "LongInt",
    "Mixed",
    "Nested",
    "Packed",
    "Bits",
    "Text",
    "Sizes",
    "Shapes",
    "WithAnon",
    "BigEnd",
    "HasStableUnion",
    "WithPointers",
    "Derived",
]


def report(value: Any) -> Any:
    """A ctypes value (or dicts and lists of them) as plain data, read with ctypes
    attribute access: structures as dicts, unions as their bytes."""
    if isinstance(value, dict):
        return {key: report(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [report(item) for item in value]
    if isinstance(value, ctypes.Union):
        return ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(value))
    if isinstance(value, ctypes.Structure):
        out = {}
        for klass in reversed(type(value).__mro__):
            for entry in vars(klass).get("_fields_", ()):
                name, ftype = entry[0], entry[1]
                address = ctypes.addressof(value) + getattr(type(value), name).offset
                if len(entry) > 2:
                    out[name] = getattr(value, name)
                elif issubclass(ftype, (ctypes._Pointer, CFuncPtr)) or (
                    issubclass(ftype, ctypes._SimpleCData) and ftype._type_ in "zZP"
                ):
                    out[name] = ctypes.c_void_p.from_address(address).value
                elif issubclass(ftype, ctypes.Array) and ftype._type_ is c_char:
                    out[name] = ctypes.string_at(address, ftype._length_)
                elif issubclass(ftype, ctypes.Array) and ftype._type_ is c_wchar:
                    out[name] = ctypes.wstring_at(address, ftype._length_)
                else:
                    out[name] = report(getattr(value, name))
        return out
    if isinstance(value, ctypes.Array):
        return [report(item) for item in value]
    if isinstance(value, ctypes._SimpleCData):
        return value.value
    return value


#: The signatures of tests/data/layouts.c, declared in the server.
SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "sum_int_double": ([IntDouble], c_double),
    "sum_long_int": ([LongInt], c_long),
    "sum_mixed": ([Mixed], c_double),
    "sum_nested": ([Nested], c_double),
    "make_nested": ([c_int], Nested),
    "make_int_double": ([c_int, c_double], IntDouble),
    "make_long_int": ([c_long, c_int], LongInt),
    "make_mixed": ([c_char, c_double, c_short], Mixed),
    "layout_fixed": ([c_int, POINTER(c_size_t)], c_int),
}


def _size(value: Any) -> int | None:
    return ctypes.sizeof(value) if isinstance(value, ctypes.c_int.__mro__[-2]) else None


class Layouts(Bridge):
    """Checks in the server what ctypes values arrive as; its library (built from
    tests/data/layouts.c by the tests) is given with ``configure(library=...)``."""

    library = "layouts32"

    @remote32(copy=True)
    def echo(self, value: Any) -> dict[str, Any]:
        """``value`` back (as copy=True copies it), what it holds here, and the names and
        sizes here of its types (of its items, for a list)."""
        items = value if isinstance(value, list) else [value]
        return {
            "value": value,
            "seen": report(value),
            "types": [type(item).__name__ for item in items],
            "sizes": [_size(item) for item in items],
        }

    @remote32(copy=True)
    def sizes(self, *types: Any) -> list[int]:
        """``ctypes.sizeof`` of ``types`` here (they arrive as this process's types)."""
        return [ctypes.sizeof(t) for t in types]

    @remote32(copy=True)
    def define(self, spec: Any) -> dict[str, Any]:
        """Build the random layout ``spec`` here; its layout and its unions' fingerprints."""
        ctypes_registry.define(spec)
        from bitbridge.wire.ctypes_layout import layout_fingerprint

        return {
            "layout": ctypes_registry.layout(spec),
            "broken": ctypes_registry.broken_bit_fields(spec),
            "fingerprints": [
                layout_fingerprint(ctypes_registry.define(u)) for u in ctypes_registry.unions(spec)
            ],
        }

    @remote32(copy=True)
    def check(self, spec: Any, value: Any, expected: Any) -> dict[str, Any]:
        """Whether ``value`` (of the layout ``define`` built) holds ``expected`` here, as
        plain ctypes access reads it; ``value`` back."""
        got = ctypes_registry.read(value, spec)
        return {"same": got == expected, "got": got, "value": value}

    @remote32(copy=True)
    def call_c(self, values: dict[str, Any]) -> dict[str, Any]:
        """Call the C functions of tests/data/layouts.c with the issue's structures."""
        lib = self.lib
        for name, (argtypes, restype) in SIGNATURES.items():
            function = getattr(lib, name)
            function.argtypes, function.restype = argtypes, restype
        sums = {
            name: getattr(lib, name)(values[cls.__name__])
            for name, cls in [
                ("sum_int_double", IntDouble),
                ("sum_long_int", LongInt),
                ("sum_mixed", Mixed),
                ("sum_nested", Nested),
            ]
        }
        made = {
            "make_nested": lib.make_nested(5),
            "make_int_double": lib.make_int_double(3, 0.5),
            "make_long_int": lib.make_long_int(7, 1),
            "make_mixed": lib.make_mixed(b"x", 2.25, -3),
        }
        layouts = {}
        for index, cls in enumerate([IntDouble, LongInt, Mixed, Nested]):
            out = (c_size_t * 8)()
            count = lib.layout_fixed(index, out)
            offsets = [getattr(cls, entry[0]).offset for entry in cls._fields_]
            layouts[cls.__name__] = {
                "c": list(out[:count]),
                "ctypes": [ctypes.sizeof(cls), *offsets],
            }
        return {
            "sums": sums,
            "made": made,
            "made_report": {name: report(value) for name, value in made.items()},
            "layouts": layouts,
        }

    @remote32(copy=True)
    def c_source(self, specs: list[Any], names: list[str]) -> str:
        """C twins of the random layouts ``specs`` and of the named classes, as laid out here."""
        classes = [ctypes_registry.define(spec) for spec in specs]
        classes += [globals()[name] for name in names]
        return ctypes_c_twins.c_source(classes)

    @remote32(copy=True)
    def c_check(self, path: str, values: list[Any]) -> list[dict[str, Any]]:
        """For each value: C's sizeof and offsetof against ctypes' view, and the leaves
        that C reads against those ctypes reads (from the library built at ``path`` from
        ``c_source``, which defined the random layouts here)."""
        lib = ctypes.CDLL(path)
        return [ctypes_c_twins.check(lib, value) for value in values]
