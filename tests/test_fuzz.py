"""Random nested builtin values go through Echo and come back equal, with their types."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.complex_numbers(allow_nan=False)
    | st.text()
    | st.binary()
)
hashables = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(hashables, inner, max_size=5)
        | st.sets(hashables, max_size=5)
        | st.builds(bytearray, st.binary())
    ),
    max_leaves=30,
)


# The nested strategies have a long repr; hypothesis warns about building it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def same(a: object, b: object) -> bool:
    """Equal, of the same type all the way down (so 1 and True differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[index,attr-defined]
    if isinstance(a, float) and math.isinf(a):
        return a == b
    return a == b


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    args=st.lists(values, max_size=4),
    kwargs=st.dictionaries(st.text(min_size=1), values, max_size=3),
)
def test_random_values_round_trip(echo, args, kwargs):
    received_args, received_kwargs = echo.send_data(*args, **kwargs)
    assert same(list(received_args), args)
    assert same(received_kwargs, kwargs)
