"""Bridge classes for the tests of Windows DLLs from Linux. The server (a Windows Python
under Wine) imports this file, so it imports only the standard library and bitbridge."""

from __future__ import annotations

import ctypes
import os
from typing import Any

from bitbridge import Bridge, remote32

HERE = os.path.dirname(os.path.abspath(__file__))
#: Where the tests build their DLLs (tests/wine_tools.py); a Z: path in the server.
BUILD = os.path.join(os.path.dirname(HERE), "build", "wine-tests")
TEST_DLL = os.path.join(BUILD, "wine_test32.dll")


class Item(ctypes.Structure):
    """``struct Item { int id; double weight; char tag; }`` of tests/data/wine_test.c."""

    _fields_ = [("id", ctypes.c_int), ("weight", ctypes.c_double), ("tag", ctypes.c_char)]


class WineTest(Bridge):
    """The stdcall functions of tests/data/wine_test.c, loaded with windll."""

    library = TEST_DLL
    libtype = "windll"

    def __init__(self) -> None:
        lib = self.lib
        lib.add_stdcall.restype, lib.add_stdcall.argtypes = ctypes.c_int, [ctypes.c_int] * 2
        lib.item_total.restype = ctypes.c_double
        lib.item_total.argtypes = [Item, ctypes.c_int]
        lib.item_make.restype = Item
        lib.item_make.argtypes = [ctypes.c_int, ctypes.c_double]
        # The same DLL once more, to read the error that deny_access sets.
        self.with_errors = ctypes.WinDLL(lib._name, use_last_error=True)

    @remote32
    def add(self, a: int, b: int) -> int:
        return self.lib.add_stdcall(a, b)

    @remote32
    def item_total(self, item: Item, count: int) -> float:
        return self.lib.item_total(item, count)

    @remote32(copy=True)
    def item_make(self, item_id: int, weight: float) -> Item:
        return self.lib.item_make(item_id, weight)

    @remote32
    def deny_access(self) -> None:
        """Raise the Windows error that ``deny_access`` sets (ERROR_ACCESS_DENIED)."""
        if not self.with_errors.deny_access():
            raise ctypes.WinError(ctypes.get_last_error())

    @remote32
    def read_address(self, address: int) -> bytes:
        return ctypes.string_at(address, 4)

    @remote32
    def process_id(self) -> tuple[int, int]:
        """The server's own pid, and what kernel32 says it is."""
        return os.getpid(), ctypes.windll.kernel32.GetCurrentProcessId()

    @remote32(copy=True)
    def platform(self) -> tuple[str, str, Any]:
        import sys

        return sys.platform, sys.executable, sys.pycache_prefix
