"""Events: a library's own thread (tests/data/events.c, built -m32 -pthread) calls a
handler kept across calls, while no call is in flight and while one is; every event
reaches the client's function, in order, by value, on a thread of bitbridge's."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from bridges import Driver

from bitbridge import flush_events

SOURCE = Path(__file__).parent / "data" / "events.c"


@pytest.fixture(scope="module")
def events_library(tmp_path_factory) -> Path:
    library = tmp_path_factory.mktemp("events") / "libevents.so"
    subprocess.run(
        ["gcc", "-m32", "-shared", "-fPIC", "-O2", "-pthread", "-o", str(library), str(SOURCE)],
        check=True,
    )
    return library


@pytest.fixture
def driver(events_library):
    with Driver.configure(library=str(events_library))() as bridge:
        yield bridge


class Recorded:
    """A handler that records what it got, where and when."""

    def __init__(self) -> None:
        self.sequences: list[int] = []
        self.latencies: list[float] = []
        self.threads: set[str] = set()

    def __call__(self, sequence: int, fired: float) -> None:
        self.latencies.append(time.monotonic() - fired)
        self.sequences.append(sequence)
        self.threads.add(threading.current_thread().name)


def test_a_thousand_events_at_a_kilohertz_between_calls_all_arrive_in_order(driver):
    handler = Recorded()
    assert driver.start(handler, 1000, 1000) == 0  # returns at once: no call in flight
    time.sleep(1.5)  # the client does nothing with the bridge meanwhile
    assert driver.wait() == 0
    flush_events(driver)
    assert handler.sequences == list(range(1000))
    (thread,) = handler.threads
    assert thread.startswith("bitbridge-events-")
    driver.release()


def test_events_keep_coming_while_a_long_call_is_in_flight(driver):
    handler = Recorded()
    driver.start(handler, 1000, 1000)
    assert driver.busy(1200) == 1200  # the library's thread fires meanwhile
    driver.wait()
    flush_events(driver)
    assert handler.sequences == list(range(1000))
    assert max(handler.latencies) < 5.0  # delivered as they came, not after the call
    driver.release()


def test_a_handler_may_call_the_bridge(driver):
    seen = []
    driver.start(lambda sequence, fired: seen.append(driver.busy(0) + sequence), 50, 1000)
    driver.wait()
    flush_events(driver)
    assert seen == list(range(50))
    driver.release()


def test_an_exception_of_a_handler_is_logged_and_raised_by_the_next_call(driver, caplog):
    def handler(sequence: int, fired: float) -> None:
        if sequence == 3:
            raise LookupError(f"no buffer for block {sequence}")

    driver.start(handler, 10, 1000)
    driver.wait()
    with pytest.raises(LookupError, match="no buffer for block 3"):
        flush_events(driver)
    assert "an event handler raised LookupError" in caplog.text
    assert driver.busy(0) == 0  # raised once
    driver.release()


def test_the_arguments_of_events_are_copies_that_outlive_the_bridge(events_library):
    handler = Recorded()
    with Driver.configure(library=str(events_library))() as bridge:
        bridge.start(handler, 20, 100)
        bridge.wait()
        flush_events(bridge)
        bridge.release()
    assert handler.sequences == list(range(20))
    assert all(type(latency) is float for latency in handler.latencies)


@pytest.mark.parametrize("transport", ["fd", "tcp"])
def test_a_windows_dll_fires_events_from_its_thread_to_a_linux_client(transport, monkeypatch):
    # The same driver built by mingw (winpthreads, linked in): its server under Wine.
    from wine_tools import BUILD, build_dll

    dll = build_dll(SOURCE, BUILD / "events32.dll", "-static", "-pthread", "-Wl,--kill-at")
    monkeypatch.setenv("BITBRIDGE_WINE_TRANSPORT", transport)
    handler = Recorded()
    with Driver.configure(library=str(dll))() as driver:
        driver.start(handler, 200, 1000)
        time.sleep(0.5)
        if transport == "fd":  # the events' channel is inherited, as the connection is
            assert len(handler.sequences) > 100  # delivered while no call is in flight
        # On TCP the library's thread now waits for the client to read its first event,
        # while the server waits for the next call; that call must not deadlock them.
        driver.wait()
        flush_events(driver)  # on TCP, events wait for a call of the client's
        assert handler.sequences == list(range(200))
        driver.release()
