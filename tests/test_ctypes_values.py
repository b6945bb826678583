"""The ctypes codec (``bitbridge.wire.ctypes_values`` and ``ctypes_rebuild``) in one
process: descriptions, round trips, every refusal and its message, range checks on
crafted descriptions. tests/test_layouts.py runs the same structures through a real
32-bit server."""

from __future__ import annotations

import ctypes
import pickle
import sys
from typing import Any

import layouts as ps
import pytest
from layout_samples import STRUCTS, sample

from bitbridge.wire import ctypes_rebuild
from bitbridge.wire import ctypes_values as codec
from bitbridge.wire.ctypes_layout import layout_fingerprint
from bitbridge.wire.ctypes_rebuild import FORMAT, rebuild


def roundtrip(obj: Any) -> Any:
    """``obj`` through the codec's pickler and back, in this process."""
    return pickle.loads(codec.dumps(obj))


def decode(description: Any) -> Any:
    return rebuild(*description)


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_every_structure_roundtrips_in_one_process(cls: Any) -> None:
    value = sample(cls)
    back = roundtrip(value)
    assert type(back) is cls
    assert ps.report(back) == ps.report(value)
    assert bytes(back) == bytes(value) or cls is ps.WithPointers


def test_the_description_is_plain_data() -> None:
    fmt, spec, value = codec.describe(sample(ps.Nested))
    assert fmt == FORMAT
    assert value == ((1, 0.5), 4, (1.0, 2.0, 3.0))
    assert spec[0] == "S"
    assert spec[1] is ps.Nested
    assert [field[0] for field in spec[2]] == ["inner", "n", "xs"]

    def walk(item: Any) -> None:
        assert not codec.is_ctypes_value(item)
        if isinstance(item, tuple):
            for part in item:
                walk(part)

    walk(spec)
    walk(value)
    # Plain pickle can carry it: the classes go by reference.
    assert pickle.loads(pickle.dumps((fmt, spec, value))) == (fmt, spec, value)


def test_reduce_gives_a_reduce_tuple_for_reducer_override() -> None:
    function, arguments = codec.reduce(sample(ps.IntDouble))
    assert function is codec.rebuild
    assert ps.report(function(*arguments)) == {"a": 3, "b": 0.5}
    assert decode(codec.describe(sample(ps.IntDouble))).b == 0.5


def test_values_inside_containers() -> None:
    data = {"p": [ps.IntDouble(1, 2.5), (ps.Point(3, 4),)], "n": 5, "s": "text"}
    back = roundtrip(data)
    assert back["n"] == 5
    assert back["s"] == "text"
    assert ps.report(back["p"]) == [{"a": 1, "b": 2.5}, [{"x": 3, "y": 4}]]


def test_is_ctypes_value() -> None:
    assert codec.is_ctypes_value(ctypes.c_int(1))
    assert codec.is_ctypes_value(ps.IntDouble())
    assert codec.is_ctypes_value(ctypes.byref(ctypes.c_int()))
    assert not codec.is_ctypes_value(ps.IntDouble)
    assert not codec.is_ctypes_value(ctypes.c_int)
    assert not codec.is_ctypes_value(3)


@pytest.mark.parametrize(
    "value",
    [
        ctypes.c_int(-3),
        ctypes.c_uint(2**32 - 1),
        ctypes.c_longlong(-(2**63)),
        ctypes.c_ulonglong(2**64 - 1),
        ctypes.c_byte(-128),
        ctypes.c_ushort(65535),
        ctypes.c_double(1.5),
        ctypes.c_float(0.25),
        ctypes.c_longdouble(1 / 3),
        ctypes.c_bool(True),
        ctypes.c_char(b"z"),
        ctypes.c_wchar("\U0001f600"),
        ctypes.c_char_p(b"bytes"),
        ctypes.c_char_p(None),
        ctypes.c_wchar_p("text \u20ac"),
        ctypes.c_int.__ctype_be__(258),
        ps.Handle(77),
    ],
    ids=lambda value: type(value).__name__,
)
def test_scalars_on_their_own(value: Any) -> None:
    back = roundtrip(value)
    assert type(back) is type(value)
    assert back.value == value.value


def test_arrays_on_their_own() -> None:
    ints = roundtrip((ctypes.c_int * 3)(1, -2, 3))
    assert list(ints) == [1, -2, 3]
    points = roundtrip((ps.Point * 2)(ps.Point(1, 2), ps.Point(3, 4)))
    assert [(p.x, p.y) for p in points] == [(1, 2), (3, 4)]
    grid = (ctypes.c_double * 2 * 3)()
    grid[2][1] = 9.5
    assert [list(row) for row in roundtrip(grid)] == [[0, 0], [0, 0], [0, 9.5]]
    chars = (ctypes.c_char * 6)()
    chars.raw = b"a\0b\0\0\0"
    assert roundtrip(chars).raw == b"a\0b\0\0\0"
    wide = (ctypes.c_wchar * 4)()
    wide.value = "x\0\U0001f600"
    assert roundtrip(wide)[:] == "x\0\U0001f600\0"
    assert len(roundtrip((ctypes.c_int * 0)())) == 0


def test_bit_fields_anonymous_fields_inheritance_and_big_endian() -> None:
    bits = roundtrip(sample(ps.Bits))
    assert (bits.a, bits.b, bits.c, bits.d, bits.e, bits.flag) == (
        5,
        -9,
        1000,
        -300000,
        -2048,
        True,
    )
    anon = roundtrip(sample(ps.WithAnon))
    assert (anon.x, anon.y, anon.xy.x) == (-4, 4, -4)
    derived = roundtrip(sample(ps.Derived))
    assert (derived.a, derived.b, derived.c, derived.n) == (-1, 1e300, 7, 2**32 - 1)
    big = roundtrip(sample(ps.BigEnd))
    assert bytes(big)[:4] == b"\xca\xfe\xba\xbe"
    assert big.arr[1] == 65535


def test_text_keeps_every_character() -> None:
    back = roundtrip(sample(ps.Text))
    assert ctypes.string_at(ctypes.addressof(back), 8) == b"ab\0cd\0\0\0"
    assert ps.report(back)["wide"] == "h\u00e9\0\U0001f600\0\0"
    assert back.w == "\u20ac"
    assert [bytes(row.raw) for row in back.grid] == [b"x\0y", b"zzz"]


def test_null_pointer_fields_cross_as_null() -> None:
    back = roundtrip(ps.WithPointers(n=42))
    assert back.n == 42
    assert not back.p
    assert back.s is None
    assert back.v is None
    assert not back.f


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("p", ctypes.pointer(ctypes.c_int(1)), "WithPointers.p"),
        ("s", b"text", "WithPointers.s"),
        ("v", 1234, "WithPointers.v"),
        ("f", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x), "WithPointers.f"),
        ("ps", (None, 8), "WithPointers.ps[1]"),
    ],
)
def test_a_pointer_field_that_is_not_null_is_refused(field: str, value: Any, path: str) -> None:
    obj = ps.WithPointers()
    setattr(obj, field, value)
    with pytest.raises(TypeError) as error:
        codec.dumps(obj)
    message = str(error.value)
    assert message.startswith(path + ":")
    assert "build the pointer in the server, in the remote method" in message


@pytest.mark.parametrize(
    "value",
    [
        ctypes.pointer(ctypes.c_int(1)),
        ctypes.POINTER(ctypes.c_int)(),
        ctypes.c_void_p(1234),
        ctypes.c_void_p(None),
        ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 0),
        ctypes.byref(ctypes.c_int(1)),
        (ctypes.c_void_p * 2)(),
        (ctypes.c_char_p * 2)(b"a", b"b"),
    ],
    ids=lambda value: type(value).__name__,
)
def test_pointers_on_their_own_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="build the pointer in the server"):
        codec.dumps(value)


def test_py_object_and_unknown_things_are_refused() -> None:
    with pytest.raises(TypeError, match="py_object"):
        codec.dumps(ctypes.py_object(1))

    class HoldsObject(ctypes.Structure):
        _fields_ = [("o", ctypes.py_object)]

    with pytest.raises(TypeError, match=r"HoldsObject\.o: a py_object"):
        codec.describe(HoldsObject())
    with pytest.raises(TypeError, match="not a ctypes value"):
        codec.describe(3)


def test_a_class_the_other_side_cannot_import_is_refused() -> None:
    class Local(ctypes.Structure):
        _fields_ = [("a", ctypes.c_int)]

    with pytest.raises(TypeError, match="Local cannot be found by its module and qualified name"):
        codec.describe(Local())
    # As a field of an importable class it is fine: the receiver's class decides.
    assert codec.describe((ctypes.c_int * 2)())[2] == (0, 0)


def test_a_c_bool_bit_field_is_refused() -> None:
    class Flags(ctypes.Structure):
        _fields_ = [("a", ctypes.c_bool, 1), ("b", ctypes.c_bool, 1)]

    with pytest.raises(TypeError, match=r"Flags\.a: a c_bool bit field"):
        codec.describe(Flags())


class CtypesBitFieldBug(ctypes.Structure):
    # ctypes before 3.14 puts b at bit 1 of its 4-byte unit, so 32 bits do not fit there.
    _fields_ = [("a", ctypes.c_longlong, 1), ("b", ctypes.c_uint, 32)]


def test_a_bit_field_ctypes_lays_out_past_its_type_is_refused() -> None:
    with pytest.raises(TypeError, match=r"CtypesBitFieldBug\.b: ctypes lays this 32-bit field"):
        codec.describe(CtypesBitFieldBug())


class CtypesOverlappingBitFields(ctypes.Structure):
    # ctypes before 3.14 puts b at bit 17 (offset 2, bit 1) and c over bits 2 to 17.
    _fields_ = [("a", ctypes.c_int, 1), ("b", ctypes.c_short, 1), ("c", ctypes.c_int, 16)]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="ctypes 3.14 lays bit fields out as GCC")
def test_bit_fields_ctypes_lays_over_one_another_are_refused() -> None:
    overlapping = CtypesOverlappingBitFields()
    overlapping.c = -1
    assert overlapping.b == -1  # the bug itself: writing c changed b
    with pytest.raises(TypeError) as raised:
        codec.describe(CtypesOverlappingBitFields())
    assert str(raised.value).startswith(
        "CtypesOverlappingBitFields.b: ctypes lays this field of CtypesOverlappingBitFields "
        "out over bits of its field c, so writing one changes the other (a ctypes bug"
    )


class WithPointer(ctypes.Union):
    _fields_ = [("p", ctypes.c_void_p), ("i", ctypes.c_int)]


def test_a_union_with_a_pointer_is_refused() -> None:
    with pytest.raises(TypeError, match=r"holds a pointer \(WithPointer\.p\)"):
        codec.describe(WithPointer())


def _with_value(description: Any, index: int, value: Any) -> Any:
    fmt, spec, values = description
    values = list(values)
    values[index] = value
    return fmt, spec, tuple(values)


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (0, 2**70, "Sizes.l = 1180591620717411303424 does not fit: the field is a c_long, 8"),
        (1, -1, "Sizes.ul = -1 does not fit: the field is a c_ulong"),
        (2, 2**64, "Sizes.sz = 18446744073709551616 does not fit"),
    ],
)
def test_a_value_that_does_not_fit_raises_overflow_error(
    index: int, value: int, expected: str
) -> None:
    description = _with_value(codec.describe(sample(ps.Sizes)), index, value)
    with pytest.raises(OverflowError, match=expected):
        decode(description)


def test_bit_field_and_array_ranges_are_checked() -> None:
    with pytest.raises(OverflowError, match=r"Bits\.a = 8 does not fit: the field is a 3-bit"):
        decode(_with_value(codec.describe(sample(ps.Bits)), 0, 8))
    with pytest.raises(OverflowError, match=r"Bits\.b = -17 does not fit.*-16\.\.15"):
        decode(_with_value(codec.describe(sample(ps.Bits)), 1, -17))
    description = codec.describe(sample(ps.Longs))
    with pytest.raises(OverflowError, match=r"Longs\.xs\[2\] = "):
        decode(_with_value(description, 1, (0, 0, 2**64)))
    with pytest.raises(OverflowError, match=r"Longs\.grid\[1\]\[0\] = -1 "):
        decode(_with_value(description, 2, ((0, 0), (-1, 0))))
    fmt, spec, _ = codec.describe(ctypes.c_float(1.0))
    with pytest.raises(OverflowError, match=r"c_float = 1e\+300 does not fit"):
        rebuild(fmt, spec, 1e300)
    fmt, spec, _ = codec.describe((ctypes.c_char * 2)())
    with pytest.raises(OverflowError, match="3 bytes do not fit"):
        rebuild(fmt, spec, b"abc")


def test_a_different_class_in_the_receiver_is_refused() -> None:
    fmt, spec, value = codec.describe(sample(ps.IntDouble))
    renamed = (spec[0], spec[1], (("x", *spec[2][0][1:]), spec[2][1]))
    with pytest.raises(TypeError, match="differs between the two processes: fields x, b"):
        rebuild(fmt, renamed, value)
    retyped = (spec[0], spec[1], (spec[2][0], ("b", ("s", "c_int", 4, "i", ""), 0)))
    with pytest.raises(TypeError, match=r"IntDouble\.b: the class differs .* c_int in the sender"):
        rebuild(fmt, retyped, (3, 1))
    with pytest.raises(TypeError, match="description format 99"):
        rebuild(99, spec, value)


def test_a_lone_scalar_arrives_as_the_type_of_its_name() -> None:
    # What a 4-byte c_ulong (from i386 or Windows) looks like here: it arrives as this
    # process's c_ulong, whatever its size, and the value must fit it.
    fmt, spec, _ = codec.describe(ctypes.c_ulong(5))
    assert spec[1] == "c_ulong"
    narrow = (spec[0], spec[1], 4, *spec[3:])
    back = rebuild(fmt, narrow, 2**32 - 1)
    assert type(back) is ctypes.c_ulong
    assert back.value == 2**32 - 1
    with pytest.raises(OverflowError, match="c_ulong = -1 does not fit: the field is a c_ulong, 4"):
        rebuild(fmt, narrow, -1)
    # ctypes names a class by one of its names: c_int64 is c_long on 64-bit Linux.
    assert codec.describe(ctypes.c_int64(5))[1][1] == ctypes.c_int64.__name__
    # Floats and characters alike.
    fmt, spec, _ = codec.describe(ctypes.c_longdouble(0.5))
    back = rebuild(fmt, (spec[0], spec[1], 12, *spec[3:]), 0.5)
    assert type(back) is ctypes.c_longdouble
    assert back.value == 0.5


@pytest.mark.parametrize(
    "ctype",
    [
        ctypes.c_double,
        ctypes.c_long,
        ps.IntDouble,
        ps.Handle,
        ctypes.c_double * 3,
        (ps.Point * 2) * 3,
        ctypes.POINTER(ps.Nested),
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.POINTER(ctypes.c_int)),
        ctypes.CFUNCTYPE(None),
        ctypes.c_int.__ctype_be__,
        ps.BigEnd,
    ],
    ids=lambda ctype: ctype.__name__,
)
def test_ctypes_types_cross_by_name_or_by_make(ctype: Any) -> None:
    back = roundtrip(ctype)
    if issubclass(ctype, ctypes._CFuncPtr):  # made again: an equal function type
        assert (back._restype_, back._argtypes_, back._flags_) == (
            ctype._restype_,
            ctype._argtypes_,
            ctype._flags_,
        )
    else:  # by name; or made again, and ctypes keeps one array or pointer type per make
        assert back is ctype


def test_a_ctypes_type_the_other_side_cannot_import_is_refused() -> None:
    class Local(ctypes.Structure):
        _fields_ = [("a", ctypes.c_int)]

    with pytest.raises(TypeError, match="Local cannot be found by its module and qualified"):
        codec.dumps(Local)
    with pytest.raises(TypeError, match=r"Local_Array_2\[\]: class Local cannot be found"):
        codec.dumps(Local * 2)


def test_a_union_crosses_only_with_the_same_layout() -> None:
    fmt, spec, value = codec.describe(sample(ps.HasLongUnion))
    union_spec = spec[2][1][1]
    assert union_spec[0] == "U"
    # The union as a 32-bit Linux process lays it out: long is 4 bytes there.
    narrow = (
        "U",
        4,
        (("l", 0, 0, 0, ("s", "i", 4, "")), ("i", 0, 0, 0, ("s", "i", 4, ""))),
    )
    other = (spec[0], spec[1], (spec[2][0], ("u", ("U", union_spec[1], narrow), 0)))
    if ctypes.sizeof(ctypes.c_long) == 8:
        with pytest.raises(TypeError) as error:
            rebuild(fmt, other, (value[0], b"\0" * 4))
        message = str(error.value)
        assert message.startswith("HasLongUnion.u: union LongUnion is laid out differently")
        assert "HasLongUnion.u.l is a 4-byte signed integer in the sender, a 8-byte" in message


def test_layout_fingerprint() -> None:
    assert layout_fingerprint(ps.StableUnion) == (
        "U",
        4,
        (
            ("i", 0, 0, 0, ("s", "i", 4, "")),
            ("f", 0, 0, 0, ("s", "f", 4, "")),
            ("b", 0, 0, 0, ("a", ("s", "u", 1, ""), 4)),
        ),
    )
    bits = layout_fingerprint(ps.Bits)[2]
    assert [(name, bit_offset, width) for name, _, bit_offset, width, _ in bits][:3] == [
        ("a", 0, 3),
        ("b", 3, 5),
        ("c", 8, 10),
    ]
    assert layout_fingerprint(ps.BigEnd)[2][0][4] == ("s", "u", 4, ">")


def test_wchar_text_needs_surrogate_pairs_in_a_two_byte_wchar() -> None:
    # No process here has a 2-byte wchar_t; c_uint16 elements stand in for one.
    element = ("s", "c_wchar", 4, "w", "")
    with pytest.raises(OverflowError, match=r"needs 3 wchar_t of 2 bytes.*surrogate pair"):
        ctypes_rebuild._fill_wchars((ctypes.c_uint16 * 2)(), element, "a\U0001f600", "T.w")
    ctypes_rebuild._fill_wchars((ctypes.c_uint16 * 2)(), element, "", "T.w")


# --- against the 32-bit process -------------------------------------------------------
