"""Instances of the structures of ``layouts`` with every field set, for the tests (the
client's side only)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import layouts as ps


def sample(cls: Any) -> Any:
    """An instance of a class of ``layouts`` with every field set to something not zero."""
    s = ps
    samples: dict[Any, Callable[[], Any]] = {
        s.IntDouble: lambda: s.IntDouble(3, 0.5),
        s.LongInt: lambda: s.LongInt(7, 1),
        s.Mixed: lambda: s.Mixed(b"x", 2.25, -3),
        s.Nested: lambda: s.Nested(s.IntDouble(1, 0.5), 4, (1, 2, 3)),
        s.Packed: lambda: s.Packed(b"p", -1.25, -7, 2**32 - 1),
        s.Bits: lambda: s.Bits(5, -9, 1000, -300000, -2048, True),
        s.Text: lambda: _text(),
        s.Sizes: lambda: s.Sizes(
            -(2**31), 2**32 - 1, 2**32 - 2, 2**31 - 1, 1 / 3, "\U0001f600", -(2**63), True
        ),
        s.Point: lambda: s.Point(-1, 2),
        s.Shapes: lambda: s.Shapes(
            (s.Point(1, 2), s.Point(3, 4), s.Point(-5, -6)), ((1, 2, 3), (4, 5, -6)), 255
        ),
        s.XY: lambda: s.XY(8, 9),
        s.WithAnon: lambda: s.WithAnon(b"t", s.XY(-4, 4), 6.5),
        s.BigEnd: lambda: s.BigEnd(0xCAFEBABE, -2, (1, 65535), 2.5, -(2**31)),
        s.StableUnion: lambda: s.StableUnion(f=1.5),
        s.HasStableUnion: lambda: s.HasStableUnion(3, s.StableUnion(i=-123456), 0.25),
        s.LongUnion: lambda: s.LongUnion(l=-2),
        s.DoubleUnion: lambda: s.DoubleUnion(d=0.5),
        s.HasLongUnion: lambda: s.HasLongUnion(1, s.LongUnion(i=5)),
        s.WithPointers: lambda: s.WithPointers(n=42),
        s.Longs: lambda: s.Longs(1, (-(2**31), 0, 2**31 - 1), ((1, 2), (3, 2**32 - 1))),
        s.Derived: lambda: _derived(),
    }
    return samples[cls]()


def _text() -> Any:
    text = ps.Text(w="\u20ac")
    # Field assignment stops at a NUL (ctypes' own rule); the arrays themselves do not.
    (ctypes.c_char * 8).from_buffer(text, ps.Text.name.offset).raw = b"ab\0cd"
    (ctypes.c_wchar * 6).from_buffer(text, ps.Text.wide.offset).value = "h\u00e9\0\U0001f600"
    text.grid[0].raw = b"x\0y"
    text.grid[1].raw = b"zzz"
    return text


def _derived() -> Any:
    derived = ps.Derived()
    derived.a, derived.b, derived.c, derived.n = -1, 1e300, 7, 2**32 - 1
    return derived


STRUCTS = [
    getattr(ps, name)
    for name in dir(ps)
    if isinstance(getattr(ps, name), type)
    and issubclass(getattr(ps, name), (ctypes.Structure, ctypes.Union))
    and getattr(ps, name).__module__ == ps.__name__
]
CROSSING = [cls for cls in STRUCTS if cls not in (ps.LongUnion, ps.DoubleUnion, ps.HasLongUnion)]


#: The issue's table: what was sent, and what the server must see.
ISSUE_TABLE = [
    (ps.IntDouble(a=3, b=0.5), {"a": 3, "b": 0.5}),
    (ps.LongInt(a=7, b=1), {"a": 7, "b": 1}),
    (ps.Mixed(c=b"x", d=2.25, s=-3), {"c": b"x", "d": 2.25, "s": -3}),
    (
        ps.Nested(ps.IntDouble(1, 0.5), n=4, xs=(1, 2, 3)),
        {"inner": {"a": 1, "b": 0.5}, "n": 4, "xs": [1.0, 2.0, 3.0]},
    ),
]
