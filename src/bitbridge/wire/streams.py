"""The byte streams under the rpyc connection (both sides): rpyc's socket stream with
linear-time large frames and a short spin before blocking, and a variant that never
spins, for a server under Wine."""

from __future__ import annotations

import os
import select
import time

from rpyc.core.stream import SocketStream, retry_errnos
from rpyc.lib import Timeout
from rpyc.lib.compat import get_exc_errno

#: How long a side waiting for the other spins before it blocks, in seconds.
SPIN_SECONDS = 100e-6
_yield_processor = getattr(os, "sched_yield", lambda: time.sleep(0))


class BufferedSocketStream(SocketStream):  # type: ignore[misc]
    """rpyc's socket stream with linear-time large frames: rpyc's own ``write`` re-slices
    the rest of the frame after every 64 kB sent (an 8 MB frame copied 64 times over)."""

    def poll(self, timeout: float | None) -> bool:
        # Spin briefly before blocking: a reply or the next request usually comes within
        # tens of microseconds, and waking a processor that went idle costs more than that
        # (about 30 us per message on a virtual machine, measured).
        # Yielding in the loop lets the other side run when both share one processor.
        deadline = time.perf_counter() + SPIN_SECONDS
        while time.perf_counter() < deadline:
            try:
                if select.select([self.sock], [], [], 0)[0]:
                    return True
            except (ValueError, OSError):
                break  # closed by another thread: rpyc's own poll says so, as it expects
            _yield_processor()
        return bool(super().poll(timeout))

    def read(self, count: int) -> bytes:
        frame = bytearray(count)
        view = memoryview(frame)
        received = 0
        while received < count:
            try:
                got = self.sock.recv_into(view[received:])
            except TimeoutError:
                continue
            except OSError as exc:
                if get_exc_errno(exc) in retry_errnos:
                    continue
                self.close()
                raise EOFError(exc) from exc
            if not got:
                self.close()
                raise EOFError("connection closed by peer")
            received += got
        return bytes(frame)

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close()
            raise EOFError(exc) from exc


class WaitingSocketStream(BufferedSocketStream):
    """A socket stream that never spins and, when rpyc waits without a limit, blocks in
    the read instead of a ``select``: under Wine every ``select`` is a round trip to the
    wineserver (about 370 us), and spinning on it only adds more."""

    def poll(self, timeout: float | Timeout | None) -> bool:
        if not (timeout if isinstance(timeout, Timeout) else Timeout(timeout)).finite:
            return True
        return bool(SocketStream.poll(self, timeout))
