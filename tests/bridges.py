"""Bridge classes used by the tests. The server imports this file, so it imports only
the standard library and bitbridge."""

from __future__ import annotations

import contextlib
import ctypes
import os
import struct
import sys
import threading
from typing import Any

from bitbridge import Bridge, c_callback, remote32

HERE = os.path.dirname(os.path.abspath(__file__))
_ACTIVE_LOCK = threading.Lock()
CPP_FOLDER = os.path.join(os.path.dirname(HERE), "examples", "cpp")


class Recorder(Bridge):
    """Keeps its constructor arguments in the server and reports them."""

    libtype = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    @remote32(copy=True)
    def received(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return self.args, self.kwargs

    @remote32
    def pid(self) -> int:
        return os.getpid()

    @remote32
    def pointer_size(self) -> int:
        return struct.calcsize("P")

    @remote32
    def pid_through_self(self) -> int:
        """Calls another remote method of the server half: the method as written."""
        return self.pid()  # type: ignore[no-any-return]

    @remote32
    def append_server(self, values: list[Any]) -> list[Any]:
        """Changes its argument and returns it (not copied: by reference)."""
        values.append("server")
        return values

    @remote32
    def fail_deeply(self, message: str) -> None:
        """Raise from two frames below the remote method."""
        self._level_one(message)

    def _level_one(self, message: str) -> None:
        self._level_two(message)

    def _level_two(self, message: str) -> None:
        raise ValueError(message)

    @remote32
    def raise_oserror(self, *args: Any) -> None:
        raise OSError(*args)

    @remote32(copy=True)
    def lock(self) -> Any:
        return threading.Lock()

    @remote32
    def make_list(self) -> list[int]:
        self.kept = [1, 2, 3]
        return self.kept

    @remote32
    def kept_length(self) -> int:
        return len(self.kept)

    @remote32
    def call_back(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    @remote32
    def call_back_with_kept(self, function: Any) -> Any:
        """Call ``function`` with objects of the server (made by ``make_list``)."""
        return function(self.kept, kept=self.kept)

    @remote32(copy=True)
    def sys_path(self) -> list[str]:
        import sys

        return sys.path

    @remote32
    def can_import(self, name: str) -> bool:
        import importlib.util

        return importlib.util.find_spec(name) is not None

    @remote32
    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)

    @remote32(timeout=0.5)
    def sleep_at_most_half_a_second(self, seconds: float) -> float:
        import time

        time.sleep(seconds)
        return seconds

    @remote32
    def busy(self, seconds: float) -> int:
        """Sleep, and return how many calls were inside this method at most so far."""
        import time

        with _ACTIVE_LOCK:
            self.active = getattr(self, "active", 0) + 1
            self.most_active = max(getattr(self, "most_active", 0), self.active)
        time.sleep(seconds)
        with _ACTIVE_LOCK:
            self.active -= 1
        return self.most_active

    @remote32
    def write(self, out: str, err: str) -> None:
        """Write ``out`` on the server's stdout and ``err`` on its stderr."""
        import sys

        sys.stdout.write(out)
        sys.stdout.flush()
        sys.stderr.write(err)
        sys.stderr.flush()

    @remote32
    def abort_after_writing(self, text: str) -> None:
        import sys

        sys.stderr.write(text)
        sys.stderr.flush()
        os.abort()

    @remote32
    def segfault(self) -> None:
        ctypes.string_at(0)

    @remote32
    def describe(self, value: Any) -> tuple[bool, int, int]:
        """Whether ``value`` is a ctypes array in the server, its element size and length."""
        return isinstance(value, ctypes.Array), ctypes.sizeof(value._type_), len(value)

    @remote32
    def square_root(self, value: float) -> float:
        """Raise ValueError for a negative value (a call that fails on some inputs)."""
        if value < 0:
            raise ValueError(f"no real square root of {value}")
        return float(value**0.5)

    @remote32
    def pid_after(self, seconds: float) -> int:
        """Sleep, then return the server's pid."""
        import time

        time.sleep(seconds)
        return os.getpid()

    def local_pid(self) -> int:
        """Not decorated: runs in the client."""
        return os.getpid()


class Missing(Bridge):
    library = "no_such_library_anywhere"


class Wrong64(Bridge):
    library = os.path.join(CPP_FOLDER, "cpp_lib64.so")


class CppByPath(Bridge):
    """The example library given by absolute path, without its suffix."""

    library = os.path.join(CPP_FOLDER, "cpp_lib32")

    @remote32
    def add(self, a: int, b: int) -> int:
        self.lib.add.argtypes = [ctypes.c_int32, ctypes.c_int32]
        return self.lib.add(a, b)  # type: ignore[no-any-return]


class SystemLibc(Bridge):
    """A library found by the platform's search, not next to this module."""

    library = "libc.so.6"

    @remote32
    def abs(self, value: int) -> int:
        return self.lib.abs(value)  # type: ignore[no-any-return]


class Vendor(Bridge):
    """A vendor library that needs a helper library of its own; tests/test_dependencies.py
    builds both and names the vendor library with ``configure(library=...)``."""

    @remote32
    def quadruple(self, value: int) -> int:
        return self.lib.vendor_quadruple(value)  # type: ignore[no-any-return]

    @remote32(copy=True)
    def command_line(self) -> list[str]:
        with open("/proc/self/cmdline", "rb") as cmdline:
            return cmdline.read().decode().split("\0")[:-1]

    @remote32
    def environment(self, name: str) -> str | None:
        return os.environ.get(name)


class FailsToStart(Bridge):
    """Its ``__init__`` raises what it is told to, in the server."""

    libtype = None

    def __init__(self, kind: str) -> None:
        if kind == "value":
            raise ValueError("no device on port 'COM9'")
        if kind == "file":
            raise FileNotFoundError(2, "No such device", "/dev/ttyUSB9")
        raise OSError("device busy")


# expat's handler types: void start(void *user_data, const char *name, const char **atts)
# and void end(void *user_data, const char *name).
START_HANDLER = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)
)
END_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)


class Expat(Bridge):
    """The system's i386 expat, whose parser keeps the SAX handlers it is given for later
    calls: handlers registered in one call, called by ``XML_Parse`` in the next."""

    library = "libexpat.so.1"

    def __init__(self) -> None:
        self.handlers = contextlib.ExitStack()
        self.lib.XML_ParserCreate.restype = ctypes.c_void_p
        self.lib.XML_ParserCreate.argtypes = [ctypes.c_char_p]
        self.lib.XML_SetElementHandler.argtypes = [ctypes.c_void_p, START_HANDLER, END_HANDLER]
        self.lib.XML_Parse.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        self.parser = self.lib.XML_ParserCreate(None)

    def _c_handlers(self, on_start: Any, on_end: Any) -> tuple[Any, Any]:
        def start(_: Any, name: bytes, attributes: Any) -> None:
            pairs = []
            while attributes[len(pairs)] is not None:
                pairs.append(attributes[len(pairs)].decode())
            on_start(name.decode(), dict(zip(pairs[::2], pairs[1::2], strict=True)))

        def end(_: Any, name: bytes) -> None:
            on_end(name.decode())

        return start, end

    @remote32
    def set_handlers(self, on_start: Any, on_end: Any) -> None:
        """Register handlers that last until ``release_handlers``, as the docs advise."""
        start, end = self._c_handlers(on_start, on_end)
        c_start = self.handlers.enter_context(c_callback(START_HANDLER, start))
        c_end = self.handlers.enter_context(c_callback(END_HANDLER, end))
        self.lib.XML_SetElementHandler(self.parser, c_start, c_end)

    @remote32
    def set_handlers_for_this_call_only(self, on_start: Any, on_end: Any) -> None:
        """The common mistake: the handlers' blocks end with this call, the parser keeps
        their pointers."""
        start, end = self._c_handlers(on_start, on_end)
        with c_callback(START_HANDLER, start) as c_start, c_callback(END_HANDLER, end) as c_end:
            self.lib.XML_SetElementHandler(self.parser, c_start, c_end)

    @remote32
    def feed(self, text: bytes, final: bool) -> int:
        """Parse ``text``; 1 when it was well-formed so far."""
        return int(self.lib.XML_Parse(self.parser, text, len(text), int(final)))

    @remote32
    def release_handlers(self) -> None:
        self.handlers.close()


SQLITE_ABORT = 4

#: ``int (*callback)(void *context, int columns, char **values, char **names)``
RowCallback = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_char_p),
    ctypes.POINTER(ctypes.c_char_p),
)


class Sqlite(Bridge):
    """An in-memory database of the sqlite library that the server's Python carries (its
    ``_sqlite3`` module needs it: the i386 libsqlite3 of the provisioned interpreter, the
    sqlite3.dll beside a Windows python.exe): ``sqlite3_exec`` hands each row of a query
    to a callback, which runs in the client."""

    library = "sqlite3.dll" if sys.platform == "win32" else "libsqlite3.so.0"

    def __init__(self) -> None:
        lib = self.lib
        # CPython's Windows sqlite3.dll is built without automatic initialisation
        # (SQLITE_OMIT_AUTOINIT): sqlite3_open alone writes through a null pointer there.
        if lib.sqlite3_initialize():
            raise OSError("sqlite3_initialize failed")
        lib.sqlite3_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.sqlite3_exec.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            RowCallback,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
        ]
        lib.sqlite3_free.argtypes = [ctypes.c_void_p]
        self.db = ctypes.c_void_p()
        if lib.sqlite3_open(b":memory:", ctypes.byref(self.db)):
            raise OSError("sqlite3_open failed")

    @remote32
    def execute(self, sql: str, on_row: Any = None) -> None:
        """Run ``sql``; ``on_row(values)`` gets each row as a list of bytes (None for NULL).
        Returning True from it stops the query."""

        def row(context: Any, columns: int, values: Any, names: Any) -> int:
            return 1 if on_row is not None and on_row([values[i] for i in range(columns)]) else 0

        error = ctypes.c_char_p()
        with c_callback(RowCallback, row, error_result=1) as c_row:
            failed = self.lib.sqlite3_exec(self.db, sql.encode(), c_row, None, ctypes.byref(error))
        message = (error.value or b"").decode()
        self.lib.sqlite3_free(error)
        if failed and failed != SQLITE_ABORT:  # SQLITE_ABORT: on_row asked to stop
            raise RuntimeError(f"sqlite3_exec failed ({failed}): {message}")


#: ``void handler(int sequence, double fired)`` of tests/data/events.c.
EVENT_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_double)


class Driver(Bridge):
    """A "driver" that fires events from a thread of its own (tests/data/events.c, built
    by tests/test_events.py, which names it with ``configure(library=...)``)."""

    library = "libevents"

    def __init__(self) -> None:
        self.handlers = contextlib.ExitStack()
        self.lib.start_events.argtypes = [EVENT_HANDLER, ctypes.c_int, ctypes.c_int]

    @remote32
    def start(self, on_event: Any, count: int, period_us: int) -> int:
        """Register ``on_event(sequence, fired)`` and start firing; returns at once."""
        c_handler = self.handlers.enter_context(c_callback(EVENT_HANDLER, on_event))
        return int(self.lib.start_events(c_handler, count, period_us))

    @remote32
    def wait(self) -> int:
        """Wait until every event has been fired (by the library's thread)."""
        return int(self.lib.wait_events())

    @remote32
    def busy(self, milliseconds: int) -> int:
        """A long call into the library, while its thread goes on firing."""
        return int(self.lib.busy(milliseconds))

    @remote32
    def release(self) -> None:
        self.handlers.close()
