"""Shared memory for buffers, so that large data does not travel through the socket.

A block is an anonymous memory file (Linux ``memfd``) of the process that makes it; the
other process maps the same memory through ``/proc/<pid>/fd/<fd>``. Nothing appears in
``/dev/shm``, and the memory is freed when both sides have closed it, even after a crash.

Filling a new block costs page faults (6 ms for 8 MiB, against 0.14 ms for a block used
before), so the sending side keeps a few blocks in a :class:`Pool` and the receiving
side keeps its mappings of them in :data:`MAPPINGS`, both bounded.
"""

from __future__ import annotations

import collections
import contextlib
import mmap
import os
import sys
import threading

#: Whether this platform has the blocks; elsewhere buffers travel by copy.
AVAILABLE = sys.platform == "linux" and hasattr(os, "memfd_create")

#: The most that a 32-bit server can be asked to map for one call: its whole address
#: space is 4 GiB, shared with the interpreter, the library and the heap.
MAX_32BIT_BYTES = 1 << 30

#: How many bytes of blocks a pool, and of mappings a process, keeps for reuse.
KEEP_BYTES = 64 << 20

#: (pid, fd, inode, bytes in use): the inode tells a reused fd number from the block.
Handle = tuple[int, int, int, int]


class Block:
    """A shared block made by this process."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1)
        self.fd = os.memfd_create("bitbridge", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, self.capacity)
            self.map = mmap.mmap(self.fd, self.capacity)
            self.inode = os.fstat(self.fd).st_ino
        except BaseException:
            os.close(self.fd)
            raise

    def handle(self, size: int) -> Handle:
        """What the other process needs to map this block, ``size`` bytes of it in use."""
        return os.getpid(), self.fd, self.inode, size

    def close(self) -> None:
        """Unmap and release the block (a view still exported keeps the mapping alive)."""
        release(self.map)
        os.close(self.fd)


class Pool:
    """Blocks of the sending side, kept for the next calls up to :data:`KEEP_BYTES`."""

    def __init__(self) -> None:
        self._free: list[Block] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> Block:
        """Return a free block of at least ``size`` bytes, a kept one if there is one."""
        with self._lock:
            fitting = [block for block in self._free if block.capacity >= size]
            if fitting:
                block = min(fitting, key=lambda b: b.capacity)
                self._free.remove(block)
                return block
        # Round up, so that slightly larger data later still fits.
        return Block(max(size, 1) + (size >> 3))

    def give(self, block: Block) -> None:
        """Take back a block that the other side no longer reads."""
        with self._lock:
            self._free.append(block)
            self._free.sort(key=lambda b: b.capacity)
            while self._free and sum(b.capacity for b in self._free) > KEEP_BYTES:
                self._free.pop().close()

    def close(self) -> None:
        """Release every kept block."""
        with self._lock:
            for block in self._free:
                block.close()
            self._free.clear()


class Mappings:
    """The receiving side's mappings of the other side's blocks, kept for reuse."""

    def __init__(self) -> None:
        self._kept: collections.OrderedDict[tuple[int, int, int], mmap.mmap] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, handle: Handle) -> mmap.mmap:
        """Map the block of another process (or return the mapping kept for it)."""
        pid, fd, inode, _ = handle
        key = (pid, fd, inode)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        descriptor = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDWR)
        try:
            status = os.fstat(descriptor)
            if status.st_ino != inode:
                raise OSError(f"shared block {fd} of process {pid} is gone")
            mapping = mmap.mmap(descriptor, status.st_size)
        finally:
            os.close(descriptor)
        with self._lock:
            self._kept[key] = mapping
            while len(self._kept) > 1 and sum(len(m) for m in self._kept.values()) > KEEP_BYTES:
                release(self._kept.popitem(last=False)[1])
        return mapping

    def forget(self, pid: int) -> None:
        """Release the mappings of a process's blocks (it has gone)."""
        with self._lock:
            for key in [key for key in self._kept if key[0] == pid]:
                release(self._kept.pop(key))


#: This process's mappings of other processes' blocks.
MAPPINGS = Mappings()


def release(mapping: mmap.mmap) -> None:
    """Unmap a block, unless a view of it is still in use: then it goes with the last view."""
    with contextlib.suppress(BufferError):
        mapping.close()
