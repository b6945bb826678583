"""A script that defines its bridge class in __main__ and runs it in its main block."""

import ctypes
import struct

from bitbridge import Bridge, remote32


class Pair(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int32), ("b", ctypes.c_int32)]


class InMain(Bridge):
    libtype = None

    @remote32(copy=True)
    def swap(self, pair: Pair) -> Pair:
        return Pair(pair.b, pair.a)

    @remote32
    def pointer_size(self) -> int:
        return struct.calcsize("P")


if __name__ == "__main__":
    print("main block ran, pointer size", struct.calcsize("P"))
    with InMain() as bridge:
        swapped = bridge.swap(Pair(1, 2))
        print("swapped", type(swapped).__module__, type(swapped).__name__, swapped.a, swapped.b)
        print("server pointer size", bridge.pointer_size())
