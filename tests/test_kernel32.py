"""The Windows stdcall example: kernel32.dll's GetLocalTime through windll, on Windows and,
from Linux, in the 32-bit Windows Python under Wine."""

from __future__ import annotations

import ctypes
import datetime
import inspect
import sys

from kernel32 import SYSTEMTIME, Kernel32

from bitbridge import server_info


def test_module_imports_everywhere_and_declares_a_windll_bridge():
    assert Kernel32.library == "kernel32"
    assert Kernel32.libtype == "windll"
    assert ctypes.sizeof(SYSTEMTIME) == 16
    assert str(inspect.signature(Kernel32.get_local_time)) == "(self) -> 'datetime.datetime'"


def test_get_local_time():
    with Kernel32() as kernel32:
        info = server_info(kernel32)
        assert info.pointer_size == 4
        if sys.platform != "win32":  # a windll library from Linux: the server runs under Wine
            assert info.interpreter.startswith("Windows Python under ")
        assert kernel32.lib._name == "kernel32.dll"
        before = datetime.datetime.now()
        now = kernel32.get_local_time()
        after = datetime.datetime.now()
        assert type(now) is datetime.datetime
        # GetLocalTime reads the clock at the last timer tick (every 15.6 ms or so), and
        # datetime.now() may read a finer one: "the same time" is within a second.
        second = datetime.timedelta(seconds=1)
        assert before - second <= now <= after + second
