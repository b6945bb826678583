"""The Windows stdcall example: kernel32.dll's GetLocalTime through windll."""

from __future__ import annotations

import ctypes
import datetime
import inspect
import sys

import pytest
from kernel32 import SYSTEMTIME, Kernel32

from bitbridge import LibraryLoadError, server_info


def test_module_imports_everywhere_and_declares_a_windll_bridge():
    assert Kernel32.library == "kernel32"
    assert Kernel32.libtype == "windll"
    assert ctypes.sizeof(SYSTEMTIME) == 16
    assert str(inspect.signature(Kernel32.get_local_time)) == "(self) -> 'datetime.datetime'"


@pytest.mark.skipif(sys.platform == "win32", reason="checks what happens off Windows")
def test_windll_off_windows_fails_to_start_with_a_clear_error():
    with pytest.raises(LibraryLoadError, match="'windll' is available on Windows only"):
        Kernel32()


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows: kernel32.dll")
def test_get_local_time():
    with Kernel32() as kernel32:
        assert server_info(kernel32).pointer_size == 4
        before = datetime.datetime.now()
        now = kernel32.get_local_time()
        after = datetime.datetime.now()
        assert type(now) is datetime.datetime
        # GetLocalTime reads the clock at the last timer tick (every 15.6 ms or so), and
        # datetime.now() may read a finer one: "the same time" is within a second.
        second = datetime.timedelta(seconds=1)
        assert before - second <= now <= after + second
