"""C twins of ctypes classes, for checking from inside C what a rebuilt value holds.

:func:`c_source` writes, for a list of structure and union classes, their C
declarations (in the layout rules of the C compiler: ``#pragma pack`` for ``_pack_``,
``scalar_storage_order`` for big-endian structures) and three functions each:

- ``size_t layout_<Name>(size_t *out)``: ``sizeof`` then the ``offsetof`` of every field
  that is not a bit field; returns how many it wrote;
- ``int dump_<Name>(const void *p, long long *ints, double *floats)``: every leaf value
  in field order, integers (chars, bools, pointers and each byte of a union too) into
  ``ints`` and floating-point values into ``floats``; returns the count of both as
  ``ints * 65536 + floats``.

:func:`leaves` gives the same leaves from the ctypes side. The classes are read in the
process that compiles and loads the C (the 32-bit one), so the C types follow its ctypes
types: a field that is ``c_long`` there is ``long`` in C.
"""

from __future__ import annotations

import ctypes
import math
from _ctypes import CFuncPtr as _CFuncPtr
from typing import Any

_C_TYPES = {
    "b": "signed char",
    "B": "unsigned char",
    "h": "short",
    "H": "unsigned short",
    "i": "int",
    "I": "unsigned int",
    "l": "long",
    "L": "unsigned long",
    "q": "long long",
    "Q": "unsigned long long",
    "f": "float",
    "d": "double",
    "g": "long double",
    "?": "_Bool",
    "c": "char",
    "u": "wchar_t",
    "z": "char *",
    "Z": "wchar_t *",
    "P": "void *",
}
_FLOATS = "fdg"


def _fields(cls: Any) -> list[tuple[Any, ...]]:
    """The fields of ``cls`` declared by itself (not inherited)."""
    return list(vars(cls).get("_fields_", ()))


def _base(cls: Any) -> Any:
    """The structure class ``cls`` derives from, or None."""
    base = cls.__mro__[1]
    return base if "_fields_" in vars(base) else None


def _is_record(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, (ctypes.Structure, ctypes.Union))


def _is_pointer(t: Any) -> bool:
    return issubclass(t, (ctypes._Pointer, _CFuncPtr)) or (
        issubclass(t, ctypes._SimpleCData) and t._type_ in "zZP"
    )


def _scalar_c(t: Any) -> str:
    return "void *" if _is_pointer(t) else _C_TYPES[t._type_]


def _records(classes: list[Any]) -> list[Any]:
    """All record classes the given ones use, dependencies first."""
    order: list[Any] = []

    def visit(t: Any) -> None:
        while issubclass(t, ctypes.Array):
            t = t._type_
        if not _is_record(t) or t in order:
            return
        base = _base(t)
        if base is not None:
            visit(base)
        for entry in _fields(t):
            visit(entry[1])
        order.append(t)

    for cls in classes:
        visit(cls)
    return order


def _declarator(t: Any, name: str) -> tuple[str, str]:
    """(C type, declarator) for a field of ctypes type ``t``."""
    dims = ""
    while issubclass(t, ctypes.Array):
        dims += f"[{t._length_}]"
        t = t._type_
    if _is_record(t):
        return _tag(t), f"{name}{dims}"
    return _scalar_c(t), f"{name}{dims}"


def _tag(cls: Any) -> str:
    name: str = cls.__name__
    return ("union " if issubclass(cls, ctypes.Union) else "struct ") + name


def _declaration(cls: Any) -> str:
    big = "_swappedbytes_" in dir(cls)
    attr = ' __attribute__((scalar_storage_order("big-endian")))' if big else ""
    kind = "union" if issubclass(cls, ctypes.Union) else "struct"
    lines = []
    pack = vars(cls).get("_pack_")
    if pack:
        lines.append(f"#pragma pack(push, {pack})")
    lines.append(f"{kind}{attr} {cls.__name__} {{")
    base = _base(cls)
    if base is not None:
        lines.append(f"    {_tag(base)} base_;")
    for entry in _fields(cls):
        ctype, decl = _declarator(entry[1], entry[0])
        bits = f" : {entry[2]}" if len(entry) > 2 else ""
        lines.append(f"    {ctype} {decl}{bits};")
    if not _fields(cls) and base is None:
        lines.append("    char empty_[0];")
    lines.append("};")
    if pack:
        lines.append("#pragma pack(pop)")
    return "\n".join(lines)


def _dump_lines(t: Any, expr: str, depth: int) -> list[str]:
    """C statements that dump the leaves of lvalue ``expr`` of ctypes type ``t``."""
    pad = "    " * depth
    if issubclass(t, ctypes.Array):
        index = f"i{depth}"
        body = _dump_lines(t._type_, f"{expr}[{index}]", depth + 1)
        return [
            f"{pad}for (int {index} = 0; {index} < {t._length_}; {index}++) {{",
            *body,
            f"{pad}}}",
        ]
    if issubclass(t, ctypes.Union):
        index = f"i{depth}"
        return [
            f"{pad}for (size_t {index} = 0; {index} < sizeof({expr}); {index}++)",
            f"{pad}    ints[ni++] = ((const unsigned char *)&({expr}))[{index}];",
        ]
    if issubclass(t, ctypes.Structure):
        lines = []
        if _base(t) is not None:
            lines += _dump_lines(_base(t), f"{expr}.base_", depth)
        for entry in _fields(t):
            lines += _dump_lines(entry[1], f"{expr}.{entry[0]}", depth)
        return lines
    if _is_pointer(t):
        return [f"{pad}ints[ni++] = (long long)(size_t)({expr});"]
    code = t._type_
    if code in _FLOATS:
        return [f"{pad}floats[nf++] = (double)({expr});"]
    if code == "c":
        return [f"{pad}ints[ni++] = (unsigned char)({expr});"]
    return [f"{pad}ints[ni++] = (long long)({expr});"]


def c_source(classes: list[Any]) -> str:
    """C declarations and ``layout_``/``dump_`` functions for ``classes``."""
    parts = ["#include <stddef.h>", "#include <wchar.h>", ""]
    records = _records(classes)
    for cls in records:
        parts.append(_declaration(cls))
    for cls in records:
        tag = _tag(cls)
        offsets = [f"offsetof({tag}, base_)"] if _base(cls) is not None else []
        offsets += [f"offsetof({tag}, {e[0]})" for e in _fields(cls) if len(e) == 2]
        writes = "".join(f"    out[{i + 1}] = {o};\n" for i, o in enumerate(offsets))
        parts.append(
            f"size_t layout_{cls.__name__}(size_t *out) {{\n"
            f"    out[0] = sizeof({tag});\n{writes}    return {len(offsets) + 1};\n}}"
        )
        body = "\n".join(_dump_lines(cls, "(*s)", 1))
        parts.append(
            f"int dump_{cls.__name__}(const void *p, long long *ints, double *floats) {{\n"
            f"    const {tag} *s = p;\n    int ni = 0, nf = 0;\n{body}\n"
            "    return ni * 65536 + nf;\n}"
        )
    return "\n\n".join(parts) + "\n"


def leaves(obj: Any) -> tuple[list[int], list[float]]:
    """The leaves of a ctypes value in the order ``dump_`` writes them."""
    ints: list[int] = []
    floats: list[float] = []

    def walk(value: Any, t: Any) -> None:
        if issubclass(t, ctypes.Array):
            for i in range(t._length_):
                item = t._type_.from_address(ctypes.addressof(value) + i * ctypes.sizeof(t._type_))
                walk(item, t._type_)
        elif issubclass(t, ctypes.Union):
            ints.extend(ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(t)))
        elif issubclass(t, ctypes.Structure):
            for klass in reversed(t.__mro__):
                for entry in vars(klass).get("_fields_", ()):
                    name, ftype = entry[0], entry[1]
                    if len(entry) > 2:
                        ints.append(int(getattr(value, name)))
                        continue
                    offset = getattr(t, name).offset
                    walk(ftype.from_address(ctypes.addressof(value) + offset), ftype)
        elif _is_pointer(t):
            ints.append(ctypes.c_void_p.from_address(ctypes.addressof(value)).value or 0)
        else:
            v = value.value
            if t._type_ in _FLOATS:
                floats.append(v)
            elif isinstance(v, bytes):
                ints.append(v[0])
            elif isinstance(v, str):
                ints.append(ord(v))
            else:
                ints.append(int(v))

    walk(obj, type(obj))
    return ints, floats


def same_leaves(a: tuple[list[int], list[float]], b: tuple[list[int], list[float]]) -> bool:
    """Whether two leaf lists are equal, integers modulo 2**64 and NaN equal to NaN."""
    ints_a, floats_a = a
    ints_b, floats_b = b
    if len(ints_a) != len(ints_b) or len(floats_a) != len(floats_b):
        return False
    if any((x - y) % (1 << 64) for x, y in zip(ints_a, ints_b, strict=True)):
        return False
    return all(
        (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y))
        for x, y in zip(floats_a, floats_b, strict=True)
    )


def check(lib: Any, value: Any) -> dict[str, Any]:
    """C's view of ``value`` next to ctypes' (in the process that loaded ``lib``, built
    from :func:`c_source`): sizeof and the offsets of its own fields, and every leaf."""
    cls = type(value)
    name = cls.__name__
    out = (ctypes.c_size_t * 256)()
    count = getattr(lib, f"layout_{name}")(out)
    offsets = [0] if _base(cls) is not None else []
    offsets += [getattr(cls, entry[0]).offset for entry in _fields(cls) if len(entry) == 2]
    ints = (ctypes.c_longlong * 65536)()
    floats = (ctypes.c_double * 65536)()
    dump = getattr(lib, f"dump_{name}")
    dump.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    counts = dump(ctypes.addressof(value), ints, floats)
    return {
        "name": name,
        "c_layout": list(out[:count]),
        "ctypes_layout": [ctypes.sizeof(cls), *offsets],
        "c_leaves": (list(ints[: counts >> 16]), list(floats[: counts & 0xFFFF])),
        "ctypes_leaves": leaves(value),
    }
