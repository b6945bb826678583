"""The Windows stdcall example: ``GetLocalTime`` of the 32-bit ``kernel32.dll``.

The library is loaded with ``libtype = "windll"``, ctypes' loader for the ``__stdcall``
calling convention of the Windows API. On Windows, run it with a 32-bit Python installed
(the ``py`` launcher's 32-bit installs are found). On Linux, a ``windll`` bridge runs its
server in the 32-bit Windows Python under Wine (``bitbridge wine install``), where
``kernel32.dll`` is Wine's. ``examples/libc/libc.py`` is the Linux counterpart.
"""

from __future__ import annotations

import ctypes
import datetime

from bitbridge import Bridge, remote32, server_info

WORD = ctypes.c_uint16


class SYSTEMTIME(ctypes.Structure):
    """The Windows ``SYSTEMTIME`` struct: eight ``WORD`` fields, 16 bytes."""

    _fields_ = [
        ("wYear", WORD),
        ("wMonth", WORD),  # 1-12
        ("wDayOfWeek", WORD),  # 0-6, Sunday = 0
        ("wDay", WORD),
        ("wHour", WORD),
        ("wMinute", WORD),
        ("wSecond", WORD),
        ("wMilliseconds", WORD),
    ]


class Kernel32(Bridge):
    """Wrapper around the 32-bit Windows library ``kernel32.dll``."""

    library = "kernel32"
    libtype = "windll"

    def __init__(self) -> None:
        # Runs in the server, where self.lib is loaded: declare the C signature once.
        self.lib.GetLocalTime.restype = None
        self.lib.GetLocalTime.argtypes = [ctypes.POINTER(SYSTEMTIME)]

    @remote32(copy=True)
    def get_local_time(self) -> datetime.datetime:
        """The local date and time, to the millisecond, from ``GetLocalTime``."""
        st = SYSTEMTIME()
        self.lib.GetLocalTime(ctypes.byref(st))
        return datetime.datetime(
            st.wYear,
            st.wMonth,
            st.wDay,
            st.wHour,
            st.wMinute,
            st.wSecond,
            st.wMilliseconds * 1000,
        )


def main() -> None:
    with Kernel32() as kernel32:
        print(f"server: {server_info(kernel32)}")
        print(f"get_local_time() = {kernel32.get_local_time()}")


if __name__ == "__main__":
    main()
