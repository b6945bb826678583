"""Exploring a library from the client through ``bridge.lib``, a netref: ctypes types set as
``restype`` and ``argtypes`` are the server's own types of the same name, ctypes values
passed to its functions cross by value, and nothing hands the client an object that points
into the server (the issue: ``restype = c_char_p`` crashed the client's console)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest
from layouts import IntDouble, Nested

ROOT = Path(__file__).resolve().parent.parent


def test_restype_and_argtypes_set_from_the_client(layouts):
    scale = layouts.lib.scale
    scale.restype = ctypes.c_double
    scale.argtypes = [ctypes.c_double, ctypes.c_double]
    assert layouts.lib.scale(1.5, 4.0) == 6.0
    assert [str(t) for t in layouts.lib.scale.argtypes] == ["<class 'ctypes.c_double'>"] * 2


def test_ctypes_values_as_arguments_cross_by_value(layouts):
    scale = layouts.lib.scale
    scale.restype = ctypes.c_double
    scale.argtypes = None
    assert layouts.lib.scale(ctypes.c_double(1.5), ctypes.c_double(4.0)) == 6.0
    layouts.lib.sum_int_double.restype = ctypes.c_double
    layouts.lib.sum_int_double.argtypes = (IntDouble,)
    # 3.5, not the 3.0 of the raw 64-bit bytes read in i386's layout
    assert layouts.lib.sum_int_double(IntDouble(3, 0.5)) == 3.5


def test_a_c_long_is_a_long_of_the_server_for_a_function_without_argtypes(layouts):
    # long add_longs(long a, long b): 4-byte longs there. Had c_long(5) kept the client's
    # 8 bytes, b would be read from the upper half of a, and the sum would be 5.
    assert layouts.lib.add_longs(ctypes.c_long(5), ctypes.c_long(-7)) == -2


def test_a_char_pointer_result_is_a_copy_in_the_client(layouts):
    layouts.lib.greeting.restype = ctypes.c_char_p
    greeting = layouts.lib.greeting()
    assert type(greeting) is bytes
    assert greeting == b"hello from i386"


def test_a_structure_class_as_restype(layouts):
    layouts.lib.make_nested.restype = Nested
    layouts.lib.make_nested.argtypes = [ctypes.c_int]
    made = layouts.lib.make_nested(5)  # a netref to the server's Nested: read there
    assert (made.inner.a, made.inner.b, made.n, list(made.xs)) == (5, 2.5, 6, [5.5, 6.5, 7.5])


def test_pointer_types_are_made_again_in_the_server(layouts):
    layouts.lib.layout_fixed.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]
    argtypes = layouts.lib.layout_fixed.argtypes
    # the server's own types: c_int is named c_long there, c_size_t is c_ulong
    assert [t.__name__ for t in argtypes] == ["c_long", "LP_c_ulong"]


def test_a_client_pointer_is_refused_in_the_client(layouts):
    with pytest.raises(TypeError, match="build the pointer in the server"):
        layouts.lib.scale(ctypes.pointer(ctypes.c_double(1.5)), 2.0)
    with pytest.raises(TypeError, match="a byref"):
        layouts.lib.scale(ctypes.byref(ctypes.c_double(1.5)), 2.0)


def test_exploring_in_the_serve_console(layouts_library, tmp_path):
    module = tmp_path / "explore.py"
    module.write_text(
        "from bitbridge import Bridge\n\n\n"
        f"class Explore(Bridge):\n    library = {str(layouts_library)!r}\n"
    )
    commands = (
        "import ctypes\n"
        "bridge.lib.scale.restype = ctypes.c_double\n"
        "bridge.lib.scale.argtypes = [ctypes.c_double, ctypes.c_double]\n"
        "print('scale', bridge.lib.scale(1.5, 4.0))\n"
        "bridge.lib.greeting.restype = ctypes.c_char_p\n"
        "print('greeting', bridge.lib.greeting())\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bitbridge", "serve", str(module), "Explore"],
        input=commands,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "scale 6.0\n" in result.stdout
    assert "greeting b'hello from i386'\n" in result.stdout
    assert "Traceback" not in result.stderr
    assert "bitbridge serve: closed" in result.stderr
