"""The system-library example: the real 32-bit C runtime of the server."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator

import pytest
from libc import Libc

from bitbridge import server_info


def test_library_is_the_servers_c_runtime(libc):
    assert libc.lib._name == "libc.so.6"


def test_time_matches_the_clients_clock(libc):
    before = int(time.time())
    now = libc.time()
    after = time.time()
    assert type(now) is int
    assert before <= now <= after


def test_local_time_matches_the_clients_clock(libc):
    before = datetime.datetime.now().replace(microsecond=0)
    now = libc.local_time()
    after = datetime.datetime.now()
    assert type(now) is datetime.datetime  # a real datetime, not a netref
    assert now.tzinfo is None
    assert before <= now <= after


@pytest.mark.parametrize("timestamp", [0, 1, -1, 951_782_400, 1_700_000_000, 2**31 - 1, -(2**31)])
def test_local_time_at(libc, timestamp):
    assert libc.local_time(timestamp) == datetime.datetime.fromtimestamp(timestamp)


@pytest.mark.parametrize("timestamp", [2**31, -(2**31) - 1, 2**40])
def test_time_t_is_32_bit(libc, timestamp):
    with pytest.raises(OverflowError, match="does not fit in this C runtime's 32-bit time_t"):
        libc.local_time(timestamp)


@pytest.mark.parametrize("timestamp", [1.5, "now"])
def test_local_time_takes_an_int(libc, timestamp):
    with pytest.raises(TypeError):
        libc.local_time(timestamp)


@pytest.fixture
def libc_in_kathmandu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Libc]:
    # A POSIX TZ rule needs no time-zone database: UTC+5:45, no daylight saving. The
    # server inherits the client's environment when it starts.
    monkeypatch.setenv("TZ", "NPT-5:45")
    with Libc() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


def test_local_time_follows_tz(libc_in_kathmandu):
    offset = datetime.timedelta(hours=5, minutes=45)
    before = (datetime.datetime.now(datetime.timezone.utc) + offset).replace(
        microsecond=0, tzinfo=None
    )
    now = libc_in_kathmandu.local_time()
    after = (datetime.datetime.now(datetime.timezone.utc) + offset).replace(tzinfo=None)
    assert before <= now <= after
    assert libc_in_kathmandu.local_time(0) == datetime.datetime(1970, 1, 1, 5, 45)
