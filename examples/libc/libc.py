"""The system-library example: the 32-bit C runtime (``libc.so.6``) called from 64-bit Python.

The Linux counterpart of the Windows ``kernel32`` example: ``time`` and ``localtime_r``
fill a ``struct tm`` in the 32-bit server, and the local time comes back as a
``datetime``. The library is found by the platform's search, not next to this module.
Run it with ``python examples/libc/libc.py``.
"""

from __future__ import annotations

import ctypes
import datetime

from bitbridge import Bridge, remote32, server_info

# glibc's time_t is a C long: 4 bytes on i386 (so it ends in January 2038), 8 on x86_64.
# These types are only used in the process that hosts the library, so ctypes' own
# c_long has the size that library expects.
time_t = ctypes.c_long


class Tm(ctypes.Structure):
    """glibc's ``struct tm``: nine ints, then a ``long`` and a pointer (44 bytes on i386)."""

    _fields_ = [
        ("tm_sec", ctypes.c_int),  # 0-60 (60: a leap second)
        ("tm_min", ctypes.c_int),
        ("tm_hour", ctypes.c_int),
        ("tm_mday", ctypes.c_int),  # 1-31
        ("tm_mon", ctypes.c_int),  # 0-11
        ("tm_year", ctypes.c_int),  # years since 1900
        ("tm_wday", ctypes.c_int),  # 0-6, Sunday = 0
        ("tm_yday", ctypes.c_int),  # 0-365
        ("tm_isdst", ctypes.c_int),
        ("tm_gmtoff", ctypes.c_long),  # seconds east of UTC
        ("tm_zone", ctypes.c_char_p),  # abbreviation of the time zone
    ]


class Libc(Bridge):
    """Wrapper around the C runtime of the 32-bit server."""

    library = "libc.so.6"

    def __init__(self) -> None:
        # Runs in the server, where self.lib is loaded: declare the C signatures once.
        lib = self.lib
        lib.time.restype, lib.time.argtypes = time_t, [ctypes.POINTER(time_t)]
        lib.localtime_r.restype = ctypes.POINTER(Tm)
        lib.localtime_r.argtypes = [ctypes.POINTER(time_t), ctypes.POINTER(Tm)]

    @remote32
    def time(self) -> int:
        """Seconds since the epoch, from the C runtime's ``time``."""
        return self.lib.time(None)  # type: ignore[no-any-return]

    @remote32(copy=True)
    def local_time(self, timestamp: int | None = None) -> datetime.datetime:
        """The local time (naive, like ``datetime.now()``) at ``timestamp``, or now.

        ``OverflowError`` when ``timestamp`` does not fit the C runtime's ``time_t``:
        after 2038-01-19 03:14:07 UTC for a 32-bit one.
        """
        if timestamp is None:
            timestamp = self.lib.time(None)
        seconds = time_t(timestamp)
        if seconds.value != timestamp:
            bits = 8 * ctypes.sizeof(time_t)
            raise OverflowError(f"{timestamp} does not fit in this C runtime's {bits}-bit time_t")
        tm = Tm()
        if not self.lib.localtime_r(ctypes.byref(seconds), ctypes.byref(tm)):
            raise OSError(f"localtime_r failed for {timestamp}")
        return datetime.datetime(
            1900 + tm.tm_year,
            1 + tm.tm_mon,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            min(tm.tm_sec, 59),  # datetime has no leap second
        )


def main() -> None:
    with Libc() as libc:
        print(f"server: {server_info(libc)}")
        print(f"time() = {libc.time()}")
        print(f"local_time() = {libc.local_time()}")
        print(f"local_time(0) = {libc.local_time(0)}")
        print(f"local_time(2**31 - 1) = {libc.local_time(2**31 - 1)}  (the last 32-bit time_t)")
        try:
            libc.local_time(2**31)
        except OverflowError as exc:
            print(f"local_time(2**31) raises OverflowError: {str(exc).splitlines()[0]}")


if __name__ == "__main__":
    main()
