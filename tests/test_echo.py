"""Values travel to the 32-bit server and back with their types intact."""

from __future__ import annotations

import pytest

VALUES = [
    True,
    False,
    0,
    -7,
    2**31,
    2**64 + 1,
    -(10**40),
    3.25,
    float("inf"),
    1 + 2j,
    "text",
    "ünïcödé ✓",
    b"\x00\xffbytes",
    bytearray(b"abc"),
    (1, "two", 3.0),
    [1, [2, [3]]],
    {"a": 1, 2: "b", (3, 4): [5]},
    {1, 2, 3},
    frozenset({"x"}),
    range(2, 20, 3),
    None,
    [{"nested": ({1, 2}, [None, b"x", 1.5j])}, (range(3), {"deep": [True]})],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_round_trip_keeps_value_and_type(echo, value):
    args, kwargs = echo.send_data(value, key=value)
    assert args == (value,)
    assert kwargs == {"key": value}
    assert type(args[0]) is type(value)
    assert type(kwargs["key"]) is type(value)


def test_many_arguments_and_keywords(echo):
    args, kwargs = echo.send_data(*range(50), **{f"k{i}": i for i in range(50)})
    assert args == tuple(range(50))
    assert kwargs == {f"k{i}": i for i in range(50)}


def test_copy_result_holds_no_netref(echo):
    import rpyc.core.netref

    args, kwargs = echo.send_data([1, {"a": [2]}])
    seen = [args, kwargs]
    while seen:
        item = seen.pop()
        assert not isinstance(item, rpyc.core.netref.BaseNetref)
        if isinstance(item, (list, tuple)):
            seen.extend(item)
        elif isinstance(item, dict):
            seen.extend(item.values())


def test_result_by_reference_is_a_netref(echo):
    import rpyc.core.netref

    args, kwargs = echo.send_data_by_reference(1, "two", key=[3])
    assert args == (1, "two")  # a tuple of immutables travels by value
    assert isinstance(kwargs, rpyc.core.netref.BaseNetref)
    assert list(kwargs["key"]) == [3]  # a netref list never equals a local one


def test_a_callable_comes_back_as_itself(echo):
    args, _ = echo.send_data(len, print)
    assert args == (len, print)
    assert args[0] is len


def test_platform_sized_memoryview_travels_as_fixed_size_numbers(echo):
    import array

    (received,), _ = echo.send_data(memoryview(array.array("l", [1, -2, 3])))
    assert list(received) == [1, -2, 3]
