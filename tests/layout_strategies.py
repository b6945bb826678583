"""Random ctypes layouts and values for the property tests (tests/test_layouts.py).

A layout is a spec of ``ctypes_registry``: every scalar ctypes type (the ones whose size
differs between 64-bit and 32-bit Linux too), nested structures, arrays of scalars,
structures and arrays, ``_pack_``, bit fields, big- and little-endian structures,
anonymous fields, unions and NULL pointer fields. Values fit both layouts. The choices
come from hypothesis (``HypothesisPick``) or from a seeded ``random`` (``RandomPick``).
"""

from __future__ import annotations

import ctypes
import itertools
import math
import random
import struct
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import ctypes_registry as registry
from hypothesis import strategies as st

T = TypeVar("T")


class Pick(Protocol):
    """Where the layout and value generators get their choices from."""

    def integer(self, low: int, high: int) -> int: ...
    def choice(self, options: Sequence[T]) -> T: ...
    def floating(self, width: int) -> float: ...
    def binary(self, low: int, high: int) -> bytes: ...
    def character(self) -> str: ...


class HypothesisPick:
    def __init__(self, data: st.DataObject, *, bmp: bool = False) -> None:
        self.data = data
        # In a 2-byte wchar_t, a character outside the BMP takes two elements, and two
        # lone surrogates side by side read back as one character: leave both out.
        self.characters = (
            st.integers(0, 0xD7FF) | st.integers(0xE000, 0xFFFF)
            if bmp
            else st.integers(0, 0x10FFFF)
        )

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def choice(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(options))

    def floating(self, width: int) -> float:
        return self.data.draw(st.floats(width=width))  # type: ignore[arg-type]

    def binary(self, low: int, high: int) -> bytes:
        return self.data.draw(st.binary(min_size=low, max_size=high))

    def character(self) -> str:
        return chr(self.data.draw(self.characters))


class RandomPick:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return self.random.choice(options)

    def floating(self, width: int) -> float:
        value = self.random.choice([0.0, -0.0, 1.5, math.inf, self.random.uniform(-1e9, 1e9)])
        return struct.unpack("f", struct.pack("f", value))[0] if width == 32 else value

    def binary(self, low: int, high: int) -> bytes:
        return self.random.randbytes(self.random.randint(low, high))

    def character(self) -> str:
        return chr(self.random.choice([0, 65, 0xE9, 0x20AC, 0xD800, 0x1F600, 0x10FFFF]))


# Integer types: (signed, bytes on x86-64 Linux, bytes on i386 Linux).
INTEGERS = {
    "c_byte": (True, 1, 1),
    "c_ubyte": (False, 1, 1),
    "c_short": (True, 2, 2),
    "c_ushort": (False, 2, 2),
    "c_int": (True, 4, 4),
    "c_uint": (False, 4, 4),
    "c_long": (True, 8, 4),
    "c_ulong": (False, 8, 4),
    "c_longlong": (True, 8, 8),
    "c_ulonglong": (False, 8, 8),
    "c_size_t": (False, 8, 4),
    "c_ssize_t": (True, 8, 4),
    "c_int8": (True, 1, 1),
    "c_uint8": (False, 1, 1),
    "c_int16": (True, 2, 2),
    "c_uint16": (False, 2, 2),
    "c_int32": (True, 4, 4),
    "c_uint32": (False, 4, 4),
    "c_int64": (True, 8, 8),
    "c_uint64": (False, 8, 8),
}
VARYING = ["c_long", "c_ulong", "c_size_t", "c_ssize_t"]
FLOATS = {"c_float": 32, "c_double": 64, "c_longdouble": 64}
SCALARS = [*INTEGERS, *FLOATS, "c_bool", "c_char", "c_wchar"]
SWAPPABLE = [name for name in SCALARS if hasattr(getattr(ctypes, name), "__ctype_be__")]
POINTERS = ["c_void_p", "c_char_p", "c_wchar_p", "LP_c_int", "CFUNCTYPE"]


class Options:
    """What a generated layout may hold."""

    def __init__(
        self, *, unions: bool = True, bits: bool = True, depth: int = 2, fields: int = 5
    ) -> None:
        self.unions = unions
        self.bits = bits
        self.depth = depth
        self.fields = fields
        self.names = itertools.count()


def gen_record(
    pick: Pick, options: Options, depth: int, endian: str, union: bool, in_union: bool = False
) -> Any:
    """A structure or union spec (see peer_registry); no pointers inside a union."""
    fields: list[Any] = []
    anon: list[str] = []
    for _ in range(pick.integer(1, options.fields)):
        name = f"f{next(options.names)}"
        ftype = gen_type(pick, options, depth, endian, union or in_union)
        field: list[Any] = [name, ftype]
        if (
            options.bits
            and isinstance(ftype, str)
            and ftype in INTEGERS
            and pick.integer(0, 3) == 0
        ):
            _, size64, size32 = INTEGERS[ftype]
            field.append(pick.integer(1, 8 * min(size64, size32)))
        if isinstance(ftype, dict) and "fields" in ftype and pick.integer(0, 3) == 0:
            anon.append(name)
        fields.append(field)
    spec: dict[str, Any] = {"fields": fields, "endian": endian}
    if union:
        spec["union"] = True
    else:
        spec["pack"] = pick.choice([None, None, None, 1, 2, 4, 8])
    if anon:
        spec["anon"] = anon
    return spec


def gen_type(pick: Pick, options: Options, depth: int, endian: str, in_union: bool) -> Any:
    native = endian == "native"
    roll = pick.integer(0, 9)
    deeper = depth < options.depth
    if roll <= 5 or (roll == 8 and not deeper):
        return pick.choice(SCALARS if native else SWAPPABLE)
    if roll <= 7:
        element = gen_type(pick, options, depth + 1, endian, in_union)
        if isinstance(element, dict) and "ptr" in element:
            element = "c_int"
        return {"array": element, "n": pick.choice([0, 1, 2, 3, 4])}
    if roll == 8:
        return gen_record(pick, options, depth + 1, endian, False, in_union)
    if native and not in_union and pick.integer(0, 1) == 0:
        return {"ptr": pick.choice(POINTERS)}
    if native and options.unions and deeper:
        return gen_record(pick, options, depth + 1, "native", True, True)
    return pick.choice(SCALARS if native else SWAPPABLE)


def gen_values(pick: Pick, spec: Any, bits: int = 0) -> Any:
    """Values for ``spec`` that fit both the 64-bit and the 32-bit layout."""
    if isinstance(spec, str):
        if spec in INTEGERS:
            signed, size64, size32 = INTEGERS[spec]
            width = bits or 8 * min(size64, size32)
            if signed:
                return pick.integer(-(1 << (width - 1)), (1 << (width - 1)) - 1)
            return pick.integer(0, (1 << width) - 1)
        if spec in FLOATS:
            return pick.floating(FLOATS[spec])
        if spec == "c_bool":
            return pick.choice([False, True])
        if spec == "c_char":
            return pick.binary(1, 1)
        return pick.character()
    if "ptr" in spec:
        return None
    if "array" in spec:
        element, n = spec["array"], spec["n"]
        if element == "c_char":
            return pick.binary(0, n)
        if element == "c_wchar":
            return "".join(pick.character() for _ in range(pick.integer(0, n)))
        return [gen_values(pick, element) for _ in range(n)]
    if spec.get("union"):
        size = ctypes.sizeof(registry.define(spec))
        return pick.binary(size, size)
    return [gen_values(pick, f[1], f[2] if len(f) > 2 else 0) for f in spec["fields"]]


def build(spec: Any, values: Any) -> Any:
    obj = registry.define(spec)()
    registry.write(obj, spec, values)
    return obj


def reachable_unions(spec: Any) -> list[str]:
    """Class names of the unions the codec checks in a value of ``spec``: not inside
    another union, nor in an array of no elements."""
    if isinstance(spec, str) or "ptr" in spec:
        return []
    if "array" in spec:
        return reachable_unions(spec["array"]) if spec["n"] else []
    if spec.get("union"):
        return [registry.class_name(spec)]
    return [name for field in spec["fields"] for name in reachable_unions(field[1])]


def features(spec: Any) -> set[str]:
    """What a spec uses, for the figures."""
    found: set[str] = set()
    if isinstance(spec, str):
        return {"varying" if spec in VARYING or spec in ("c_wchar", "c_longdouble") else "fixed"}
    if "ptr" in spec:
        return {"pointer"}
    if "array" in spec:
        inner = spec["array"]
        return {"array", "multidim" if isinstance(inner, dict) and "array" in inner else ""} | (
            features(inner)
        )
    found.add("union" if spec.get("union") else "struct")
    if spec.get("pack"):
        found.add(f"pack{spec['pack']}")
    if spec.get("endian") == "big":
        found.add("big-endian")
    if spec.get("anon"):
        found.add("anonymous")
    for field in spec["fields"]:
        if len(field) > 2:
            found.add("bitfield")
        found |= features(field[1])
    return found - {""}
