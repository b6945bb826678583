"""ctypes values through a real bridge: the 64-bit client and the i386 server see the same
values, both ways (arguments in, ``copy=True`` results back), whatever each process's
layout; what does not fit raises, naming the field and both sizes.

The ``layouts`` fixture (conftest.py) starts the ``Layouts`` bridge of layouts.py with
tests/data/layouts.c built for i386. The property tests send random layouts through it;
``BITBRIDGE_LAYOUT_EXAMPLES`` scales how many (1 = 600 a run, and 150 overflow layouts).
"""

from __future__ import annotations

import ctypes
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ctypes_c_twins
import ctypes_registry as registry
import layouts as ps
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from layout_samples import CROSSING, ISSUE_TABLE, sample
from layout_strategies import (
    INTEGERS,
    VARYING,
    HypothesisPick,
    Options,
    Pick,
    RandomPick,
    build,
    features,
    gen_record,
    gen_values,
    reachable_unions,
)
from native32 import build32

from bitbridge.wire.ctypes_layout import layout_fingerprint


@pytest.fixture(scope="module")
def stats(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Figures of the property tests, printed at the end of the module."""
    figures: dict[str, Any] = {}
    yield figures
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None and figures:
        with capture.global_and_fixture_disabled():
            print(f"\nctypes layout figures: {json.dumps(figures, sort_keys=True)}")


def first_line(error: BaseException) -> str:
    """The message of an exception raised in the server, without its remote traceback."""
    return str(error).splitlines()[0]


# --- the issue's structures and one structure per feature -------------------------------


def test_the_issue_table_crosses_intact(layouts):
    values = [value for value, _ in ISSUE_TABLE]
    echoed = layouts.echo(values)
    assert echoed["seen"] == [expected for _, expected in ISSUE_TABLE]
    assert echoed["sizes"] == [12, 8, 16, 40]  # i386's layouts (x86-64: 16, 16, 24, 48)
    assert ps.report(echoed["value"]) == echoed["seen"]
    assert [type(v) for v in echoed["value"]] == [type(v) for v in values]


def test_c_sees_the_structures_the_client_sent(layouts):
    names = ["IntDouble", "LongInt", "Mixed", "Nested"]
    values = dict(zip(names, (v for v, _ in ISSUE_TABLE), strict=True))
    answer = layouts.call_c(values)
    # The issue saw 3.0, 7 and 1071644676.0 (the raw 64-bit bytes in the 32-bit layout).
    assert answer["sums"] == {
        "sum_int_double": 3.5,
        "sum_long_int": 8,
        "sum_mixed": ord("x") + 2.25 - 3,
        "sum_nested": 11.5,
    }
    for name, layout in answer["layouts"].items():
        assert layout["c"] == layout["ctypes"], name
    assert answer["layouts"]["Nested"]["c"] == [40, 0, 12, 16]  # not x86-64's 48, 0, 16, 24
    # What C returned by value, back with copy=True (the issue saw inner.b=2.2e-313 and
    # n=4609434218613702656 for make_nested).
    made = answer["made"]
    assert ps.report(made) == answer["made_report"]
    assert ps.report(made["make_nested"]) == {
        "inner": {"a": 5, "b": 2.5},
        "n": 6,
        "xs": [5.5, 6.5, 7.5],
    }
    assert ps.report(made["make_mixed"]) == {"c": b"x", "d": 2.25, "s": -3}
    assert type(made["make_long_int"]) is ps.LongInt


@pytest.mark.parametrize("cls", CROSSING, ids=lambda cls: cls.__name__)
def test_every_structure_crosses_intact(layouts, cls):
    value = sample(cls)
    echoed = layouts.echo(value)
    assert echoed["seen"] == ps.report(value)
    back = echoed["value"]
    assert type(back) is cls
    assert ps.report(back) == ps.report(value)
    if cls is not ps.WithPointers:
        assert bytes(back) == bytes(value)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (ps.LongInt(a=2**40, b=1), "LongInt.a = 1099511627776"),
        (ps.Nested(n=2**33), "Nested.n = 8589934592"),
        (ps.Sizes(ssz=-(2**31) - 1), "Sizes.ssz = -2147483649"),
        (ps.Longs(xs=(0, 0, 2**40)), "Longs.xs[2] = 1099511627776"),
        (ps.Longs(grid=((0, 0), (2**32, 0))), "Longs.grid[1][0] = 4294967296"),
        (ps.Packed(n=2**63), "Packed.n = 9223372036854775808"),
    ],
)
def test_a_value_too_big_for_the_32_bit_side_raises_there(layouts, value, path):
    with pytest.raises(OverflowError) as raised:
        layouts.echo(value)
    message = first_line(raised.value)
    assert message.startswith(path + " does not fit: the field is a ")
    assert "8 bytes in the sender, 4 in the receiver" in message
    assert layouts.echo(ps.IntDouble(1, 2.0))["seen"] == {"a": 1, "b": 2.0}  # and it goes on


@pytest.mark.parametrize(
    ("value", "difference"),
    [
        (
            ps.HasLongUnion(1, ps.LongUnion(i=5)),
            "HasLongUnion.u.l is a 8-byte signed integer in the sender, a 4-byte signed "
            "integer in the receiver",
        ),
        (ps.DoubleUnion(d=0.5), "DoubleUnion is 16 bytes in the sender, 12 in the receiver"),
    ],
)
def test_a_union_laid_out_differently_is_refused_there(layouts, value, difference):
    with pytest.raises(TypeError) as raised:
        layouts.echo(value)
    assert "is laid out differently in the two processes" in str(raised.value)
    assert difference in str(raised.value)


def test_a_pointer_is_refused_in_the_client_with_the_fix(layouts):
    with pytest.raises(TypeError) as raised:
        layouts.echo(ps.WithPointers(p=ctypes.pointer(ctypes.c_int(1))))
    assert first_line(raised.value).startswith("WithPointers.p: this LP_c_int field is not NULL")
    assert "build the pointer in the server, in the remote method" in str(raised.value)
    with pytest.raises(TypeError, match="a byref"):
        layouts.echo(ctypes.byref(ctypes.c_int(1)))


def test_scalars_and_arrays_on_their_own_cross(layouts):
    values = [
        ctypes.c_int(-5),
        ctypes.c_int16(-300),
        ctypes.c_double(1.5),
        ctypes.c_longdouble(1 / 3),  # 16 bytes here, 12 there: crosses as a float
        ctypes.c_wchar("\U0001f600"),
        ctypes.c_char_p(b"abc"),
        ctypes.c_wchar_p("d\u00e9f"),
        ps.Handle(9),
        (ps.IntDouble * 2)(ps.IntDouble(1, 1.5), ps.IntDouble(2, 2.5)),
        ((ctypes.c_short * 2) * 2)((1, 2), (3, 4)),
    ]
    echoed = layouts.echo(values)
    assert echoed["seen"] == ps.report(values)
    assert echoed["sizes"][3] == 12
    back = echoed["value"]
    # c_int comes back a c_long: i386 has one class for both, named c_long.
    assert [type(v) for v in back] == [ctypes.c_long] + [type(v) for v in values[1:]]
    assert ps.report(back) == ps.report(values)


@pytest.mark.parametrize(
    ("make", "there"),
    [
        pytest.param(ctypes.c_long, "c_long", id="c_long"),
        pytest.param(ctypes.c_ulong, "c_ulong", id="c_ulong"),
        pytest.param(ctypes.c_size_t, "c_ulong", id="c_size_t"),
        pytest.param(ctypes.c_ssize_t, "c_long", id="c_ssize_t"),
        # One class here with c_long: ctypes cannot tell which name was written.
        pytest.param(ctypes.c_int64, "c_long", id="c_int64"),
        pytest.param(ctypes.c_longlong, "c_long", id="c_longlong"),
        pytest.param(ctypes.c_int, "c_long", id="c_int"),  # c_int is c_long there
    ],
)
def test_a_lone_integer_arrives_as_the_type_of_its_name(layouts, make, there):
    """As a C function of the server means the name (a C long is 4 bytes there)."""
    value = make(-5 if make(-1).value < 0 else 5)
    echoed = layouts.echo([value])
    assert echoed["types"] == [there]
    assert echoed["sizes"] == [4]
    assert echoed["seen"] == [value.value]
    back = echoed["value"][0]
    assert type(back) is getattr(ctypes, there)  # that name here, 8 bytes for a long
    assert back.value == value.value


def test_a_lone_integer_too_big_for_its_name_there_raises(layouts):
    with pytest.raises(OverflowError) as raised:
        layouts.echo(ctypes.c_long(2**40))
    assert first_line(raised.value) == (
        "c_long = 1099511627776 does not fit: the field is a c_long, 8 bytes in the sender, "
        "4 in the receiver, and holds -2147483648..2147483647"
    )
    with pytest.raises(OverflowError, match="c_ulong = 18446744073709551615 does not fit"):
        layouts.echo(ctypes.c_size_t(2**64 - 1))


def test_arrays_of_fixed_size_numbers_are_shared_and_written_back(cpp, layouts):
    values = (ctypes.c_double * 4)(1, 2, 3, 4)
    cpp.scalar_multiply_in_place(10.0, values)  # a ctypes array of the client, written there
    assert list(values) == [10.0, 20.0, 30.0, 40.0]
    echoed = layouts.echo([(ctypes.c_int * 3)(1, -2, 3), (ctypes.c_long * 3)(1, -2, 3)])
    # Both arrays of c_long there (i386's name of the class of c_int); the c_long one
    # crosses by value (8 bytes an element here, 4 there), range-checked.
    assert echoed["types"] == ["c_long_Array_3", "c_long_Array_3"]
    assert echoed["sizes"] == [12, 12]
    assert echoed["seen"] == [[1, -2, 3], [1, -2, 3]]


def test_ctypes_types_as_arguments_are_the_servers_own(layouts):
    assert layouts.sizes(
        ctypes.c_long,
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.c_wchar,
        ctypes.c_double * 3,
        ctypes.POINTER(ps.Nested),
        ps.Nested,
        ps.IntDouble * 2,
    ) == [4, 4, 4, 4, 24, 4, 40, 24]


# --- random layouts --------------------------------------------------------------------

#: Examples per run; BITBRIDGE_LAYOUT_EXAMPLES scales the property tests (1 = as here).
SCALE = float(os.environ.get("BITBRIDGE_LAYOUT_EXAMPLES", "1"))
PROPERTY = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _count(figures: dict[str, Any], name: str) -> None:
    figures[name] = figures.get(name, 0) + 1


@settings(PROPERTY, max_examples=int(600 * SCALE))
@given(data=st.data())
def test_random_layouts_cross_intact_both_ways(layouts, stats, data):
    check_random_layout(layouts, HypothesisPick(data), stats.setdefault("random_i386", {}))


def check_random_layout(layouts: Any, pick: Pick, figures: dict[str, Any]) -> None:
    """Send a random layout's value to the server and back: every field must read the
    same on both sides, and a union must cross exactly when its layouts are the same."""
    endian = pick.choice(["native", "native", "native", "big", "little"])
    spec = gen_record(pick, Options(), 0, endian, False)
    obj = build(spec, gen_values(pick, spec))
    expected = registry.read(obj, spec)
    _count(figures, "layouts")
    if registry.broken_bit_fields(spec):
        with pytest.raises(TypeError, match=r"a ctypes bug before Python 3\.14"):
            layouts.check(spec, obj, expected)  # refused here, before it is sent
        _count(figures, "ctypes_bit_field_bug_refused_here")
        return
    there = layouts.define(spec)
    if there["layout"] != registry.layout(spec):
        _count(figures, "laid_out_differently")
    for feature in features(spec):
        figures.setdefault("with", {}).setdefault(feature, 0)
        figures["with"][feature] += 1
    theirs = dict(
        zip(
            [registry.class_name(u) for u in registry.unions(spec)],
            there["fingerprints"],
            strict=True,
        )
    )
    different = [
        name
        for name in reachable_unions(spec)
        if theirs[name] != layout_fingerprint(getattr(registry, name))
    ]
    started = time.perf_counter()
    try:
        answer = layouts.check(spec, obj, expected)
    except TypeError as error:
        message = str(error)
        if "a ctypes bug before Python 3.14" in message:
            assert there["broken"], message
            _count(figures, "ctypes_bit_field_bug_refused_there")
            return
        assert "is laid out differently" in message, message
        assert different, message
        _count(figures, "unions_refused")
        return
    finally:
        figures["seconds_in_calls"] = figures.get("seconds_in_calls", 0.0) + (
            time.perf_counter() - started
        )
    assert not different
    assert not there["broken"]
    if reachable_unions(spec):
        _count(figures, "unions_crossed")
    assert answer["same"], (answer["got"], expected)
    back = answer["value"]
    assert type(back) is type(obj)
    assert registry.read(back, spec) == expected


def varying_leaves(spec: Any, path: str, where: list[int]) -> list[tuple[str, list[int], str]]:
    """(path in messages, index path in the values, type name) of every size-varying
    integer that is no bit field and not inside a union."""
    if isinstance(spec, str):
        return [(path, where, spec)] if spec in VARYING else []
    if "ptr" in spec or spec.get("union"):
        return []
    if "array" in spec:
        return [
            leaf
            for i in range(spec["n"])
            for leaf in varying_leaves(spec["array"], f"{path}[{i}]", [*where, i])
        ]
    return [
        leaf
        for i, field in enumerate(spec["fields"])
        if len(field) == 2
        for leaf in varying_leaves(field[1], f"{path}.{field[0]}", [*where, i])
    ]


@settings(PROPERTY, max_examples=int(150 * SCALE))
@given(data=st.data())
def test_random_layouts_refuse_a_value_too_big_for_32_bits(layouts, stats, data):
    pick = HypothesisPick(data)
    spec = gen_record(pick, Options(unions=False), 0, pick.choice(["native", "big"]), False)
    if not varying_leaves(spec, "", []):
        spec["fields"].append(["extra", pick.choice(VARYING)])
    values = gen_values(pick, spec)
    path, where, name = pick.choice(varying_leaves(spec, registry.class_name(spec), []))
    if INTEGERS[name][0]:
        big = pick.choice(
            [pick.integer(1 << 31, (1 << 63) - 1), pick.integer(-(1 << 63), -(1 << 31) - 1)]
        )
    else:
        big = pick.integer(1 << 32, (1 << 64) - 1)
    slot = values
    for index in where[:-1]:
        slot = slot[index]
    slot[where[-1]] = big
    obj = build(spec, values)
    assume(not registry.broken_bit_fields(spec))  # refused here (see the test above)
    there = layouts.define(spec)
    with pytest.raises((OverflowError, TypeError)) as raised:
        layouts.check(spec, obj, None)
    message = first_line(raised.value)
    if there["broken"] and isinstance(raised.value, TypeError):  # refused before the value
        assert "a ctypes bug before Python 3.14" in message, message
        return
    assert isinstance(raised.value, OverflowError), message
    assert message.startswith(f"{path} = {big} does not fit: the field is a "), message
    assert "8 bytes in the sender, 4 in the receiver" in message
    _count(stats.setdefault("overflow", {}), "layouts")


C_LAYOUTS = 40


def test_c_reads_what_ctypes_rebuilt(layouts, stats, tmp_path: Path):
    """Random layouts (no bit fields or unions, the same every run) and the feature
    structures, declared in C as the server lays them out and built with gcc -m32: C's
    sizeof and offsetof equal ctypes' view there, and every leaf C reads is what ctypes
    reads there and what this process sent."""
    pick = RandomPick(15)
    specs = [
        gen_record(
            pick, Options(unions=False, bits=False), 0, pick.choice(["native", "big"]), False
        )
        for _ in range(C_LAYOUTS)
    ]
    (tmp_path / "generated.c").write_text(layouts.c_source(specs, ps.C_CHECKED))
    library = build32(tmp_path / "generated.c", tmp_path / "libgenerated32.so")
    pick = RandomPick(16)
    values = [build(spec, gen_values(pick, spec)) for spec in specs]
    values += [sample(getattr(ps, name)) for name in ps.C_CHECKED]
    results = layouts.c_check(str(library), values)
    for value, result in zip(values, results, strict=True):
        assert result["c_layout"] == result["ctypes_layout"], result["name"]
        leaves = result["c_leaves"]
        assert ctypes_c_twins.same_leaves(leaves, result["ctypes_leaves"]), result["name"]
        assert ctypes_c_twins.same_leaves(leaves, ctypes_c_twins.leaves(value)), result["name"]
    stats["c_checked"] = {"random_layouts": C_LAYOUTS, "fixed_structures": len(ps.C_CHECKED)}
