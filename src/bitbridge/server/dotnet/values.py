"""Python values checked and shaped for .NET parameters, and .NET arrays shaped back:
the pure part of the conversions that ``runtime`` makes. Server side only."""

from __future__ import annotations

import array
import ctypes
from typing import Any

from bitbridge.server.dotnet.capi import (
    ARRAY_CODES,
    PRIMS,
    SIGNED,
    T_BOOLEAN,
    T_CHAR,
    T_R4,
    T_R8,
    CType,
)


def raw_items(value: Any, kind: int, ctype: CType) -> bytes | None:
    """The bytes of a ctypes array or ``array.array`` of exactly the element type, else None."""
    if isinstance(value, ctypes.Array) and value._type_ is ctype:
        return bytes(memoryview(value).cast("B"))
    if isinstance(value, array.array) and value.typecode == ARRAY_CODES.get(kind):
        return value.tobytes()
    return None


def check(kind: int, value: Any) -> Any:
    """Validate a Python value for a .NET primitive parameter; never truncate silently."""
    if kind == T_BOOLEAN:
        if not isinstance(value, (bool, int)):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return bool(value)
    if kind == T_CHAR:
        if isinstance(value, str) and len(value) == 1 and ord(value) < 0x10000:
            return ord(value)
        raise TypeError(f"expected a one-character str, got {value!r}")
    if kind in (T_R4, T_R8):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
            raise TypeError(f"expected float, got {type(value).__name__}")
        return float(value)
    if not hasattr(value, "__index__"):
        raise TypeError(f"expected int, got {type(value).__name__}")
    number = value.__index__()
    bits = 8 * ctypes.sizeof(PRIMS[kind][0])
    signed = kind in SIGNED
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= number <= high:
        raise OverflowError(f"{number} does not fit in a {'' if signed else 'u'}int{bits}")
    return number


def flatten(value: Any, rank: int) -> tuple[list[int], list[Any]]:
    """Nested sequences as (shape, row-major items); ValueError when not rectangular."""
    if isinstance(value, (str, bytes)):
        raise TypeError("expected a sequence, got a string")
    try:
        rows = list(value)
    except TypeError:
        raise TypeError(f"expected a sequence, got {type(value).__name__}") from None
    if rank == 1:
        return [len(rows)], rows
    inner = [flatten(row, rank - 1) for row in rows]
    shape = inner[0][0] if inner else [0] * (rank - 1)
    if any(sub != shape for sub, _ in inner):
        raise ValueError("a rectangular .NET array needs rows of equal length")
    return [len(rows), *shape], [item for _, items in inner for item in items]


def nest(flat: list[Any], shape: list[int]) -> list[Any]:
    """Row-major ``flat`` items as nested lists of ``shape``."""
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]
