"""The receiver's half of :mod:`~bitbridge.wire.ctypes_values`: rebuild a ctypes value in
this process's own layout, checking every value against this process's own field types.

:func:`rebuild` is the callable of the reduce tuple that the sender pickles, so it is
found by pickle by its name: both processes run the same bitbridge.
"""

from __future__ import annotations

import ctypes
import math
from _ctypes import CFuncPtr, _SimpleCData
from typing import Any, Final

from bitbridge.wire.ctypes_layout import (
    ARRAY,
    POINTER,
    SCALAR,
    STD_BY_NAME,
    STRUCT,
    UNION,
    CType,
    Spec,
    category,
    fingerprint_difference,
    layout,
    layout_fingerprint,
    type_name,
)
from bitbridge.wire.ctypes_layout import kind as kind_of

#: The version of the description format; :func:`rebuild` refuses any other.
FORMAT: Final = 1


def rebuild_type(spec: Any) -> CType:
    """This process's ctypes type for what :func:`~bitbridge.wire.ctypes_values.type_spec`
    made: a class as it is, a standard type by name, the others made again."""
    if isinstance(spec, type):
        return spec
    form = spec[0]
    if form == "s":
        return _standard(spec[1], spec[2])
    if form == "a":
        return rebuild_type(spec[1]) * int(spec[2])
    if form == "P":
        return ctypes.POINTER(rebuild_type(spec[1]))
    if form == "F":
        restype = None if spec[1] is None else rebuild_type(spec[1])
        namespace = {
            "_argtypes_": tuple(rebuild_type(arg) for arg in spec[2]),
            "_restype_": restype,
            "_flags_": int(spec[3]),
        }
        return type("CFunctionType", (CFuncPtr,), namespace)
    raise TypeError(f"a malformed ctypes type description: {spec!r}")


def rebuild(fmt: int, spec: Spec, value: Any) -> Any:
    """Build the value that :func:`~bitbridge.wire.ctypes_values.describe` described, in
    this process's layout.

    Raises OverflowError for a value that does not fit its field here, and TypeError
    where this process's class differs from the sender's or a union's layout does."""
    if fmt != FORMAT:
        raise TypeError(f"a ctypes value of description format {fmt}; this codec reads {FORMAT}")
    try:
        cls = _resolve(spec)
        path = cls.__name__
        tag = spec[0]
        if tag == SCALAR:
            return _rebuild_scalar(cls, spec, value, path)
        obj = cls.__new__(cls)
        if tag == UNION:
            _fill_union(obj, spec, value, path)
        elif tag == STRUCT:
            _fill_struct(obj, spec, value, path)
        else:
            _fill_array(obj, spec, value, path)
        return obj
    except (ValueError, IndexError, KeyError, AttributeError) as error:
        raise TypeError(f"a malformed ctypes value description: {error!r}") from error


def _resolve(spec: Spec) -> CType:
    """This process's type for a top-level spec."""
    tag = spec[0]
    if tag == ARRAY:
        named = spec[3]
        if named is not None:
            return _checked_class(named, ctypes.Array)
        return _resolve(spec[1]) * int(spec[2])
    ref = spec[1]
    if tag == SCALAR:
        if isinstance(ref, str):
            # The type of the same name here, whatever its size: what a C function of
            # this process means by that name (rebuild() checks that the value fits).
            return _standard(ref, spec[4])
        return _checked_class(ref, _SimpleCData)
    if tag in (STRUCT, UNION):
        return _checked_class(ref, ctypes.Structure if tag == STRUCT else ctypes.Union)
    raise TypeError(f"a malformed ctypes value description: a top-level {tag!r}")


def _standard(name: str, order: str) -> CType:
    """The standard simple type of this name here, byte-swapped for ``order`` ">" or "<"."""
    base = STD_BY_NAME.get(name)
    if base is None:
        raise TypeError(f"{name!r} is not a ctypes type of this process")
    if order:
        twin: CType = getattr(base, "__ctype_be__" if order == ">" else "__ctype_le__")
        return twin
    return base


def _checked_class(ref: Any, base: type) -> CType:
    if not (isinstance(ref, type) and issubclass(ref, base)):
        raise TypeError(f"{ref!r} is not a {base.__name__} class of this process")
    return ref


def _different(path: str, theirs: Spec, mine: CType) -> TypeError:
    return TypeError(
        f"{path}: the class differs between the two processes: {type_name(theirs)} in "
        f"the sender, {mine.__name__} in the receiver; both must import the same definition"
    )


def _rebuild_scalar(cls: CType, spec: Spec, value: Any, path: str) -> Any:
    code = getattr(cls, "_type_", "")
    obj = cls.__new__(cls)
    if code in ("z", "Z"):
        if value is not None and not isinstance(value, bytes if code == "z" else str):
            raise TypeError(f"{path}: {value!r} is no value of {cls.__name__}")
        obj.value = value
        return obj
    obj.value = _checked(value, cls, spec, 0, path)
    return obj


# The smallest magnitude that a C float rounds to infinity: FLT_MAX plus half an ulp.
_FLOAT32_LIMIT: Final = float(2**128 - 2**103)


def _limits(cls: CType, bits: int) -> tuple[int, int]:
    width = bits or 8 * ctypes.sizeof(cls)
    if kind_of(cls) == "i":
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def _checked(value: Any, cls: CType, spec: Spec, bits: int, path: str) -> Any:
    """``value`` if it fits a scalar of type ``cls`` (a bit field of ``bits`` bits when
    not 0) here; OverflowError or TypeError else."""
    kind = kind_of(cls)
    if spec[3] != kind and not (spec[3] in "iu" and kind in "iu"):
        raise _different(path, spec, cls)
    if kind in "iu":
        if not isinstance(value, int):
            raise TypeError(f"{path}: {value!r} is not an integer")
        low, high = _limits(cls, bits)
        if not low <= value <= high:
            raise _overflow(value, cls, spec, bits, path, f"{low}..{high}")
    elif kind == "f":
        if not isinstance(value, (int, float)):
            raise TypeError(f"{path}: {value!r} is not a number")
        if ctypes.sizeof(cls) == 4 and math.isfinite(value) and abs(value) >= _FLOAT32_LIMIT:
            raise _overflow(value, cls, spec, 0, path, "at most ±3.4028234663852886e+38")
    elif kind == "w":
        if not (isinstance(value, str) and len(value) == 1):
            raise TypeError(f"{path}: {value!r} is not one character")
        if ctypes.sizeof(cls) == 2 and ord(value) > 0xFFFF:
            raise OverflowError(
                f"{path}: U+{ord(value):04X} does not fit one 2-byte wchar_t of the "
                f"receiver ({spec[2]} bytes in the sender); in a c_wchar array it takes "
                "two elements (a UTF-16 surrogate pair)"
            )
    elif kind == "c":
        if not (isinstance(value, bytes) and len(value) == 1):
            raise TypeError(f"{path}: {value!r} is not one byte")
    elif not isinstance(value, (bool, int)):  # "?"
        raise TypeError(f"{path}: {value!r} is not a bool")
    return value


def _overflow(
    value: Any, cls: CType, spec: Spec, bits: int, path: str, holds: str
) -> OverflowError:
    if bits:
        field = f"a {bits}-bit field of {cls.__name__} in both processes"
    else:
        field = (
            f"a {cls.__name__}, {spec[2]} bytes in the sender, {ctypes.sizeof(cls)} in the receiver"
        )
    return OverflowError(
        f"{path} = {value!r} does not fit: the field is {field}, and holds {holds}"
    )


def _fill_struct(obj: Any, spec: Spec, values: Any, path: str) -> None:
    cls = type(obj)
    if spec[0] != STRUCT:
        raise _different(path, spec, cls)
    fields = layout(cls)
    their_fields = spec[2]
    if tuple(f.name for f in fields) != tuple(entry[0] for entry in their_fields):
        raise TypeError(
            f"{path}: class {cls.__name__} differs between the two processes: fields "
            f"{', '.join(entry[0] for entry in their_fields)} in the sender, "
            f"{', '.join(f.name for f in fields)} in the receiver"
        )
    if not isinstance(values, tuple) or len(values) != len(fields):
        raise TypeError(f"{path}: a malformed ctypes value description")
    address = 0
    for f, (_, fspec, bits), value in zip(fields, their_fields, values, strict=True):
        here = f"{path}.{f.name}"
        tag = fspec[0]
        if tag != f.category or bits != f.bits:
            raise _different(here, fspec, f.type)
        if tag == SCALAR:
            f.refuse_broken(cls, here)
            setattr(obj, f.name, _checked(value, f.type, fspec, f.bits, here))
        elif tag == STRUCT:
            _fill_struct(getattr(obj, f.name), fspec, value, here)
        elif tag == UNION:
            _fill_union(getattr(obj, f.name), fspec, value, here)
        elif tag == ARRAY:
            address = address or ctypes.addressof(obj)
            _fill_array(f.type.from_address(address + f.offset), fspec, value, here)
        elif value is not None:  # a pointer: only NULL crosses, and a new one is NULL
            raise TypeError(f"{here}: a pointer value {value!r}; only NULL crosses")


def _fill_union(obj: Any, spec: Spec, data: Any, path: str) -> None:
    cls = type(obj)
    if spec[0] != UNION:
        raise _different(path, spec, cls)
    mine = layout_fingerprint(cls)
    if mine != spec[2]:
        raise TypeError(
            f"{path}: union {cls.__name__} is laid out differently in the two processes "
            f"({fingerprint_difference(mine, spec[2], path)}), and a union crosses as "
            "its bytes, so it cannot cross. A union crosses only where every member has "
            "the same size and offset on both sides: use fixed-size types (c_int32, "
            "c_int64, c_double ...), not long, size_t, wchar_t, long double or pointers, "
            "and no 8-byte member after a smaller one in a nested structure without _pack_"
        )
    if not isinstance(data, bytes) or len(data) != ctypes.sizeof(cls):
        raise TypeError(f"{path}: a malformed ctypes value description")
    ctypes.memmove(ctypes.addressof(obj), data, len(data))


def _fill_array(arr: Any, spec: Spec, values: Any, path: str) -> None:
    cls = type(arr)
    if spec[0] != ARRAY or spec[2] != cls._length_:
        raise _different(path, spec, cls)
    element = spec[1]
    etype: CType = cls._type_
    tag = element[0]
    if tag != category(etype):
        raise _different(path + "[]", element, etype)
    if tag == SCALAR:
        kind = kind_of(etype)
        if element[3] != kind and not (element[3] in "iu" and kind in "iu"):
            raise _different(path + "[]", element, etype)
        if kind == "c":
            _fill_chars(arr, values, path)
        elif kind == "w":
            _fill_wchars(arr, element, values, path)
        else:
            _fill_numbers(arr, etype, element, values, path)
    elif tag == POINTER:
        if values is not None:
            raise TypeError(f"{path}: pointer values {values!r}; only NULL crosses")
    else:
        if not isinstance(values, tuple) or len(values) != len(arr):
            raise TypeError(f"{path}: a malformed ctypes value description")
        fill = _fill_struct if tag == STRUCT else _fill_union if tag == UNION else _fill_array
        for index, value in enumerate(values):
            fill(arr[index], element, value, f"{path}[{index}]")


_INTEGER_TYPES: Final = frozenset({int, bool})
_NUMBER_TYPES: Final = frozenset({int, bool, float})


def _fill_numbers(arr: Any, etype: CType, element: Spec, values: Any, path: str) -> None:
    """Fill an array of numbers or bools, checking every value; a fast path checks the
    whole array at once, and the slow one finds the element to name."""
    if not isinstance(values, tuple) or len(values) != len(arr):
        raise TypeError(f"{path}: a malformed ctypes value description")
    kind = kind_of(etype)
    types = set(map(type, values))
    if kind in "iu?":
        fits = types <= _INTEGER_TYPES
        if fits and values and kind != "?":
            low, high = _limits(etype, 0)
            fits = low <= min(values) and max(values) <= high
    else:
        fits = types <= _NUMBER_TYPES
        if fits and ctypes.sizeof(etype) == 4:
            finite = [abs(v) for v in values if math.isfinite(v)]
            fits = not finite or max(finite) < _FLOAT32_LIMIT
    if not fits:
        for index, value in enumerate(values):
            _checked(value, etype, element, 0, f"{path}[{index}]")
    arr[:] = values


def _fill_chars(arr: Any, data: Any, path: str) -> None:
    if not isinstance(data, bytes):
        raise TypeError(f"{path}: {data!r} is not bytes")
    if len(data) > len(arr):
        raise OverflowError(
            f"{path}: {len(data)} bytes do not fit the receiver's {type(arr).__name__} "
            f"of {len(arr)}"
        )
    if hasattr(arr, "raw"):
        arr.raw = data
    else:
        for index in range(len(data)):
            arr[index] = data[index : index + 1]


def _fill_wchars(arr: Any, element: Spec, text: Any, path: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{path}: {text!r} is not a str")
    two_bytes = ctypes.sizeof(type(arr)._type_) == 2
    units = len(text) + (sum(ord(c) > 0xFFFF for c in text) if two_bytes else 0)
    if units > len(arr):
        pairs = "; a character outside the BMP takes two (a surrogate pair)" if two_bytes else ""
        raise OverflowError(
            f"{path}: the text needs {units} wchar_t of {ctypes.sizeof(type(arr)._type_)} "
            f"bytes in the receiver, which has {len(arr)} (of {element[2]} bytes in the "
            f"sender){pairs}"
        )
    if hasattr(arr, "value"):
        arr.value = text
    else:
        for index, char in enumerate(text):
            arr[index] = char
