"""Shared memory for buffers, so that large data does not travel through the socket.

A block is an anonymous memory file (Linux ``memfd``) of the process that makes it; the
other process maps the same memory through ``/proc/<pid>/fd/<fd>``. Nothing appears in
``/dev/shm``, and the memory is freed when both sides have closed it, even after a crash.

A server under Wine cannot open those paths (Windows code), so its client makes one
sparse memfd, an :class:`Arena`, that the server inherits at its start: blocks are then
regions of it, the client's in its first half and the server's in its second.

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

#: (pid, fd, inode, bytes in use): the inode tells a reused fd number from the block. A
#: block of an arena is (-arena id, offset, capacity, bytes in use).
Handle = tuple[int, int, int, int]
#: What a block's memory is mapped as: its own mapping, or a part of an arena's.
Memory = mmap.mmap | memoryview

#: Blocks of an arena start at multiples of this: Windows maps views at 64 KiB offsets.
ARENA_ALIGN = 64 << 10
#: The size of each half of an arena: the most a call may share, and a pool's worth more.
ARENA_HALF = MAX_32BIT_BYTES + KEEP_BYTES


class Block:
    """A shared block made by this process."""

    map: Memory

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


class ArenaFull(ValueError):
    """An arena's half has no free region that large."""


class Arena:
    """One memory file that two processes share from the server's start.

    The client makes it (:meth:`create`) and maps all of it; the server (a 32-bit
    process) maps only the regions it uses, as views at their offsets. Each side makes
    its blocks in its own half: the client the first, the server the second.
    """

    def __init__(self, fd: int, size: int, ident: int, first_half: bool, whole: bool) -> None:
        self.fd, self.size, self.ident = fd, size, ident
        self._whole = mmap.mmap(fd, size) if whole else None
        half = size // 2
        start = 0 if first_half else half
        self._free = [(start, half)]  # (offset, length), in order of offset
        self._lock = threading.Lock()
        ARENAS[ident] = self

    @classmethod
    def create(cls) -> Arena:
        """Make an arena in this process (the client), to hand to a server at its start."""
        fd = os.memfd_create("bitbridge-arena", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, 2 * ARENA_HALF)  # sparse: memory is used where it is written
            return cls(fd, 2 * ARENA_HALF, os.fstat(fd).st_ino, first_half=True, whole=True)
        except BaseException:
            os.close(fd)
            raise

    def block(self, capacity: int) -> ArenaBlock:
        """Return a new block of at least ``capacity`` bytes in this side's half."""
        length = -(-max(capacity, 1) // ARENA_ALIGN) * ARENA_ALIGN
        with self._lock:
            for index, (offset, free) in enumerate(self._free):
                if free >= length:
                    if free == length:
                        del self._free[index]
                    else:
                        self._free[index] = (offset + length, free - length)
                    return ArenaBlock(self, offset, length)
        raise ArenaFull(f"no {length >> 20} MiB left in the shared memory of this server")

    def view(self, offset: int, length: int) -> Memory:
        """Map ``length`` bytes at ``offset`` (a part of the whole, or a view of its own)."""
        if self._whole is not None:
            return memoryview(self._whole)[offset : offset + length]
        return mmap.mmap(self.fd, length, offset=offset)

    def give_back(self, offset: int, length: int) -> None:
        """Return a block's region to the free ones (the client frees its memory too)."""
        if self._whole is not None:
            self._whole.madvise(getattr(mmap, "MADV_REMOVE", mmap.MADV_DONTNEED), offset, length)
        with self._lock:
            self._free.append((offset, length))
            self._free.sort()
            merged = [self._free[0]]
            for start, free in self._free[1:]:
                last_start, last_free = merged[-1]
                if last_start + last_free == start:
                    merged[-1] = (last_start, last_free + free)
                else:
                    merged.append((start, free))
            self._free = merged

    def close(self) -> None:
        """Forget the arena and release this process's mapping of it."""
        ARENAS.pop(self.ident, None)
        MAPPINGS.forget(-self.ident)
        if self._whole is not None:
            release(self._whole)
        with contextlib.suppress(OSError):
            os.close(self.fd)


class ArenaBlock(Block):
    """A block that is a region of an :class:`Arena`."""

    def __init__(self, arena: Arena, offset: int, capacity: int) -> None:
        # Not Block.__init__: the memory is the arena's.
        self.arena, self.offset, self.capacity = arena, offset, capacity
        self.map = arena.view(offset, capacity)

    def handle(self, size: int) -> Handle:
        return -self.arena.ident, self.offset, self.capacity, size

    def close(self) -> None:
        release(self.map)
        self.arena.give_back(self.offset, self.capacity)


class Pool:
    """Blocks of the sending side, kept for the next calls up to :data:`KEEP_BYTES`;
    blocks of ``arena`` if it is given."""

    def __init__(self, arena: Arena | None = None) -> None:
        self.arena = arena
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
        capacity = max(size, 1) + (size >> 3)
        if self.arena is None:
            return Block(capacity)
        try:
            return self.arena.block(capacity)
        except ArenaFull:
            self.close()  # the kept blocks hold regions of the arena: free them, try again
            return self.arena.block(max(size, 1))

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
        self._kept: collections.OrderedDict[tuple[int, int, int], Memory] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, handle: Handle) -> Memory:
        """Map the block of another process (or return the mapping kept for it)."""
        pid, fd, inode, _ = handle
        key = (pid, fd, inode)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        mapping = _map(handle)
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


def _map(handle: Handle) -> Memory:
    """Map the block of another process that ``handle`` names."""
    pid, fd, inode, _ = handle
    if pid < 0:  # a region of an arena: (-arena id, offset, capacity, size)
        arena = ARENAS.get(-pid)
        if arena is None:
            raise OSError(f"shared block in arena {-pid}, which this process does not have")
        return arena.view(fd, inode)
    descriptor = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDWR)
    try:
        status = os.fstat(descriptor)
        if status.st_ino != inode:
            raise OSError(f"shared block {fd} of process {pid} is gone")
        return mmap.mmap(descriptor, status.st_size)
    finally:
        os.close(descriptor)


#: This process's mappings of other processes' blocks.
MAPPINGS = Mappings()
#: The arenas this process shares, by id.
ARENAS: dict[int, Arena] = {}


def release(mapping: Memory) -> None:
    """Unmap a block, unless a view of it is still in use: then it goes with the last view."""
    with contextlib.suppress(BufferError):
        if isinstance(mapping, memoryview):
            mapping.release()
        else:
            mapping.close()
