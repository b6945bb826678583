"""Arrays travel through shared memory: in place, large, within a 32-bit server's reach,
and released after each call."""

from __future__ import annotations

import array
import os

import numpy as np
import pytest
from processes import fd_count

from bitbridge import server_info
from bitbridge.wire import shm

#: Natively, and from Linux also against the Windows DLL under Wine (conftest.CPP_HOSTS).
CPP_EVERYWHERE = True


def memfd_mappings(pid: int) -> list[str]:
    """The mappings of bitbridge's blocks in ``pid`` (not the arenas of servers under Wine)."""
    with open(f"/proc/{pid}/maps") as maps:
        return [line for line in maps if "memfd:bitbridge " in line]


def test_library_writes_into_the_clients_numpy_array(cpp):
    values = np.arange(5, dtype=np.float64)
    assert cpp.scalar_multiply_in_place(3.0, values) is None
    assert values.tolist() == [0.0, 3.0, 6.0, 9.0, 12.0]


def test_library_writes_into_the_clients_array_array(cpp):
    values = array.array("d", [1.0, 2.0])
    cpp.scalar_multiply_in_place(-1.0, values)
    assert values.tolist() == [-1.0, -2.0]


def test_strided_numpy_array_gets_the_result_too(cpp):
    base = np.arange(10, dtype=np.float64)
    every_other = base[::2]
    cpp.scalar_multiply_in_place(10.0, every_other)
    assert base.tolist() == [0, 1, 20, 3, 40, 5, 60, 7, 80, 9]


def test_read_only_array_is_not_written_back(cpp):
    values = np.arange(3, dtype=np.float64)
    values.flags.writeable = False
    assert list(cpp.scalar_multiply(2.0, values)) == [0.0, 2.0, 4.0]


def test_in_place_refuses_a_list_with_the_remote_type_error(cpp):
    with pytest.raises(TypeError, match="needs a float64 array"):
        cpp.scalar_multiply_in_place(2.0, [1.0, 2.0])


def test_the_server_sees_a_ctypes_array(recorder):
    assert recorder.describe(np.zeros(4, dtype=np.int32)) == (True, 4, 4)
    assert recorder.describe(array.array("d", [1.0])) == (True, 8, 1)
    assert recorder.describe(memoryview(array.array("h", [1, 2]))) == (True, 2, 2)
    assert recorder.describe(np.zeros(0, dtype=np.uint64)) == (True, 8, 0)


def test_large_array_in_place(cpp):
    values = np.ones(20_000_000, dtype=np.float64)  # 160 MB
    cpp.scalar_multiply_in_place(2.0, values)
    assert values[0] == values[-1] == 2.0
    assert float(values.sum()) == 40_000_000.0


def test_sizes_a_32_bit_server_cannot_map_are_refused(cpp):
    too_big = np.empty(shm.MAX_32BIT_BYTES // 8 + 1, dtype=np.float64)  # never touched
    with pytest.raises(ValueError, match="more than a 32-bit server can map at once"):
        cpp.scalar_multiply_in_place(2.0, too_big)
    assert cpp.add(1, 2) == 3


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_large_bytes_travel_through_shared_memory_and_keep_their_type(echo, kind):
    data = kind(os.urandom(3 * 1024 * 1024))
    (received,), _ = echo.send_data(data)
    assert type(received) is kind
    assert received == data


def test_shared_blocks_stay_bounded_and_are_released_at_close():
    from cpp import Cpp
    from echo import Echo

    fds_before = fd_count()
    mapped_before = set(memfd_mappings(os.getpid()))  # other tests' bridges keep theirs
    with Cpp() as cpp, Echo() as echo:
        for _ in range(3):
            for size in (1, 1000, 2_000_000):
                values = np.ones(size)
                cpp.scalar_multiply_in_place(2.0, values)
                assert cpp.scalar_multiply(1.0, values)[-1] == 2.0
                data = bytes(size * 8)
                (echoed,), _ = echo.send_data(data)
                assert echoed == data
        kept = sum(memfd_bytes(pid) for pid in (os.getpid(), *servers(cpp, echo)))
        assert kept <= 4 * shm.KEEP_BYTES
    assert fd_count() == fds_before
    assert set(memfd_mappings(os.getpid())) <= mapped_before
    assert not [name for name in os.listdir("/dev/shm") if "bitbridge" in name]


def servers(*bridges: object) -> list[int]:
    return [server_info(bridge).pid for bridge in bridges]  # type: ignore[arg-type]


def memfd_bytes(pid: int) -> int:
    """Bytes of bitbridge blocks mapped in ``pid``."""
    total = 0
    for line in memfd_mappings(pid):
        start, end = (int(part, 16) for part in line.split()[0].split("-"))
        total += end - start
    return total


def test_large_array_result_comes_back_through_shared_memory(cpp):
    values = np.arange(1_000_000, dtype=np.float64)
    result = cpp.scalar_multiply(0.5, values)
    assert isinstance(result, array.array)
    assert np.array_equal(np.asarray(result), values * 0.5)
