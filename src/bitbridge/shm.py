"""Shared memory for buffers, so that large data does not travel through the socket.

A block is an anonymous memory file (Linux ``memfd``) of the process that makes it; the
other process maps the same memory through ``/proc/<pid>/fd/<fd>``. Nothing appears in
``/dev/shm``, and the memory is freed when both sides have closed it, even after a crash.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys

#: Whether this platform has the blocks; elsewhere buffers travel by copy.
AVAILABLE = sys.platform == "linux" and hasattr(os, "memfd_create")

#: The most that a 32-bit server can be asked to map for one call: its whole address
#: space is 4 GiB, shared with the interpreter, the library and the heap.
MAX_32BIT_BYTES = 1 << 30

Handle = tuple[int, int, int]


class Block:
    """A shared block made by this process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.fd = os.memfd_create("bitbridge", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, max(size, 1))
            self.map = mmap.mmap(self.fd, max(size, 1))
        except BaseException:
            os.close(self.fd)
            raise

    @property
    def handle(self) -> Handle:
        """What the other process needs to map this block."""
        return os.getpid(), self.fd, self.size

    def unmap(self) -> None:
        """Unmap the block but keep it, for the other process to map."""
        release(self.map)

    def close(self) -> None:
        """Unmap and release the block (a view still exported keeps the mapping alive)."""
        release(self.map)
        os.close(self.fd)


def attach(handle: Handle) -> mmap.mmap:
    """Map the block of another process."""
    pid, fd, size = handle
    descriptor = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDWR)
    try:
        return mmap.mmap(descriptor, max(size, 1))
    finally:
        os.close(descriptor)


def release(mapping: mmap.mmap) -> None:
    """Unmap a block, unless a view of it is still in use: then it goes with the last view."""
    with contextlib.suppress(BufferError):
        mapping.close()
