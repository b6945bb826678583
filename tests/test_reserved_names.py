"""A bridge class may not redefine what the bridge itself needs: refused when the class
is created, naming the name and another to use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bitbridge import Bridge, BridgeOptions, remote32


@pytest.mark.parametrize(
    ("name", "instead"),
    [
        ("close", "close_device"),
        ("configure", "configure_device"),
        ("restart", "restart_device"),
        ("map", "map_values"),
    ],
)
@pytest.mark.parametrize("remote", [True, False])
def test_a_method_named_like_a_bridge_method_is_refused(name, instead, remote):
    def method(self):
        return None

    namespace = {name: remote32(method) if remote else method}
    with pytest.raises(TypeError) as raised:
        type(Bridge)("Device", (Bridge,), namespace)
    message = str(raised.value)
    assert f"Device defines {name!r}, a name Bridge reserves" in message
    assert f"e.g. {instead!r}" in message


@pytest.mark.parametrize("value", [None, 1, property(lambda self: None)])
def test_lib_is_refused_in_any_form(value):
    with pytest.raises(TypeError, match=r"defines 'lib'.*the library bitbridge loaded"):
        type(Bridge)("Device", (Bridge,), {"lib": value})


def test_a_mixin_before_bridge_may_not_bring_a_close_either():
    class Instrument:
        def close(self) -> None:
            pass

    with pytest.raises(TypeError, match=r"Instrument \(a base\) defines 'close'"):

        class Device(Instrument, Bridge):
            pass

    class Behind(Bridge, Instrument):  # Bridge.close comes first in the MRO: fine
        pass

    assert Behind.close is Bridge.close


def test_library_and_libtype_must_be_values():
    with pytest.raises(TypeError, match=r"Device\.library must be .* not function"):

        class Device(Bridge):
            @remote32
            def library(self):
                return "x"

    with pytest.raises(TypeError, match=r"Device\.libtype must be one of .* not 1"):
        type(Bridge)("Device", (Bridge,), {"libtype": 1})
    with pytest.raises(ValueError, match=r"libtype must be one of 'cdll', .* not 'cdl'"):
        type(Bridge)("Device", (Bridge,), {"libtype": "cdl"})


def test_bridge_options_only_as_options():
    with pytest.raises(TypeError, match=r"bridge_options must be a BridgeOptions, not dict; "):
        type(Bridge)("Device", (Bridge,), {"bridge_options": {"timeout": 5}})


def test_the_valid_uses_still_work():
    class Device(Bridge):
        library = Path("device32.so")
        libtype = "net"
        bridge_options = BridgeOptions(timeout=5)
        lib: object  # an annotation only

        @remote32
        def close_device(self) -> None:
            pass

    class Other(Bridge):
        library = os.path.join("folder", "other32")
        libtype = None

    assert Device.bridge_options.timeout == 5
    assert Device.configure(timeout=6).bridge_options.timeout == 6
    assert Other.library.endswith("other32")
    for libtype in ("cdll", "windll", "oledll", "net", None):
        assert type(Bridge)("Device", (Bridge,), {"libtype": libtype}).libtype == libtype
