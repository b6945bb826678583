"""Structure classes built from JSON specs, the same in both processes of a test.

The property tests make random layouts. A class made at run time cannot be imported by
name in the other process, so both processes build it from the same spec, and
:func:`define` registers it in this module under a name made from the spec's hash:
bitbridge then refers to it by ``ctypes_registry.<name>`` exactly as it refers to a
user's class by ``module.qualname``.

A spec is JSON: a scalar is the name of a ctypes type (``"c_long"``); ``{"ptr": name}``
is a pointer field (always NULL here); ``{"array": spec, "n": length}`` an array; and
``{"fields": [[name, spec] or [name, spec, bits], ...], "union": bool, "pack": int or
null, "endian": "native" | "big" | "little", "anon": [names]}`` a structure or union.

:func:`read` and :func:`write` are the tests' oracle: they get and set the leaf values
of an instance with plain ctypes attribute access and addresses, independently of
bitbridge, as nested lists (floats as ``float.hex``, unions and char arrays as their bytes).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import sys
from typing import Any

_POINTERS: dict[str, Any] = {
    "c_void_p": ctypes.c_void_p,
    "c_char_p": ctypes.c_char_p,
    "c_wchar_p": ctypes.c_wchar_p,
    "LP_c_int": ctypes.POINTER(ctypes.c_int),
    "CFUNCTYPE": ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int),
}

_module = sys.modules[__name__]


def canonical(spec: Any) -> str:
    """The spec as canonical JSON."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def class_name(spec: Any) -> str:
    """The registered name of a structure spec's class."""
    return "S_" + hashlib.sha1(canonical(spec).encode()).hexdigest()[:16]


def define(spec: Any) -> Any:
    """The ctypes type of ``spec``; a structure or union class is built once and kept
    in this module under :func:`class_name`."""
    if isinstance(spec, str):
        return getattr(ctypes, spec)
    if "ptr" in spec:
        return _POINTERS[spec["ptr"]]
    if "array" in spec:
        return define(spec["array"]) * spec["n"]
    name = class_name(spec)
    existing = getattr(_module, name, None)
    if existing is not None:
        return existing
    endian = spec.get("endian", "native")
    if spec.get("union"):
        base: Any = ctypes.BigEndianUnion if endian == "big" else ctypes.Union
    else:
        base = {
            "native": ctypes.Structure,
            "big": ctypes.BigEndianStructure,
            "little": ctypes.LittleEndianStructure,
        }[endian]
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name}
    if spec.get("pack"):
        namespace["_pack_"] = spec["pack"]
    if spec.get("anon"):
        namespace["_anonymous_"] = tuple(spec["anon"])
    namespace["_fields_"] = [(field[0], define(field[1]), *field[2:]) for field in spec["fields"]]
    cls = type(base)(name, (base,), namespace)
    setattr(_module, name, cls)
    return cls


def _view(obj: Any, name: str) -> Any:
    """Field ``name`` of ``obj`` as an instance of its own type (in a big-endian
    structure, the byte-swapped one), over the same memory."""
    cls = type(obj)
    ftype = next(entry[1] for entry in cls._fields_ if entry[0] == name)
    return ftype.from_address(ctypes.addressof(obj) + getattr(cls, name).offset)


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value.hex()
    return value


def read(obj: Any, spec: Any) -> Any:
    """The leaf values of ``obj``, an instance of ``define(spec)``."""
    if isinstance(spec, str):
        return _norm(obj.value)
    if "array" in spec:
        element = spec["array"]
        n = spec["n"]
        if element == "c_char":
            return ctypes.string_at(ctypes.addressof(obj), n)
        if element == "c_wchar":
            return ctypes.wstring_at(ctypes.addressof(obj), n)
        if isinstance(element, str):
            return [_norm(obj[i]) for i in range(n)]
        if "ptr" in element:
            size = ctypes.sizeof(ctypes.c_void_p)
            base = ctypes.addressof(obj)
            return [ctypes.c_void_p.from_address(base + i * size).value for i in range(n)]
        return [read(obj[i], element) for i in range(n)]
    if spec.get("union"):
        return ctypes.string_at(ctypes.addressof(obj), ctypes.sizeof(obj))
    values = []
    for name, fspec, *_ in spec["fields"]:
        if isinstance(fspec, str):
            values.append(_norm(getattr(obj, name)))
        elif "ptr" in fspec:
            values.append(ctypes.cast(_view(obj, name), ctypes.c_void_p).value)
        elif "array" in fspec:
            values.append(read(_view(obj, name), fspec))
        else:
            values.append(read(getattr(obj, name), fspec))
    return values


def write(obj: Any, spec: Any, values: Any) -> None:
    """Set the leaf values of ``obj`` (an instance of ``define(spec)``, zeroed) from
    what :func:`read` returns, floats given as floats."""
    if "array" in spec:
        element = spec["array"]
        if element == "c_char":
            ctypes.memmove(ctypes.addressof(obj), values, len(values))
        elif element == "c_wchar" or isinstance(element, str):
            for i, value in enumerate(values):
                obj[i] = value
        elif "ptr" not in element:
            for i, value in enumerate(values):
                write(obj[i], element, value)
        return
    if spec.get("union"):
        ctypes.memmove(ctypes.addressof(obj), values, len(values))
        return
    for (name, fspec, *_), value in zip(spec["fields"], values, strict=True):
        if isinstance(fspec, str):
            setattr(obj, name, value)
        elif "ptr" in fspec:
            pass
        elif "array" in fspec:
            write(_view(obj, name), fspec, value)
        else:
            write(getattr(obj, name), fspec, value)


def normalized(values: Any) -> Any:
    """``values`` with floats as :func:`read` gives them, to compare with it."""
    if isinstance(values, list):
        return [normalized(value) for value in values]
    return _norm(values)


def layout(spec: Any) -> Any:
    """Size and field offsets of a structure spec's class in this process, nested."""
    cls = define(spec)
    if isinstance(spec, str) or "ptr" in spec:
        return ctypes.sizeof(cls)
    if "array" in spec:
        return [ctypes.sizeof(cls), layout(spec["array"])]
    return [
        ctypes.sizeof(cls),
        [[getattr(cls, f[0]).offset, layout(f[1])] for f in spec["fields"]],
    ]


def unions(spec: Any) -> list[Any]:
    """The union specs inside a spec, itself included."""
    if isinstance(spec, str) or "ptr" in spec:
        return []
    if "array" in spec:
        return unions(spec["array"])
    found = [spec] if spec.get("union") else []
    for field in spec["fields"]:
        found.extend(unions(field[1]))
    return found


def broken_bit_fields(spec: Any) -> list[str]:
    """Names of the bit fields that ctypes lays out wrongly (bugs before 3.14; bitbridge
    refuses them) where a value of ``spec`` carries them field by field (not inside a
    union, which crosses as its bytes, nor in an array of no elements): past the end of
    their own type, or over the bits of another field."""
    if isinstance(spec, str) or "ptr" in spec or spec.get("union"):
        return []
    if "array" in spec:
        return broken_bit_fields(spec["array"]) if spec["n"] else []
    cls = define(spec)
    found = []
    zero = read(cls(), spec)
    for index, field in enumerate(spec["fields"]):
        found += broken_bit_fields(field[1])
        if len(field) > 2:
            descriptor = getattr(cls, field[0])
            if hasattr(descriptor, "bit_size"):
                start, width = descriptor.bit_offset, descriptor.bit_size
            else:
                start, width = descriptor.size & 0xFFFF, descriptor.size >> 16
            if start + width > 8 * ctypes.sizeof(define(field[1])):
                found.append(field[0])
                continue
            ones = cls()
            setattr(ones, field[0], -1)  # all ones: ctypes keeps the low bits
            changed = [i for i, value in enumerate(read(ones, spec)) if value != zero[i]]
            if changed != [index]:
                found.append(field[0])
    return found
