"""Callbacks that outlive the call that made them: a library (the system's i386 expat)
keeps SAX handlers registered in one call and calls them in later ones."""

from __future__ import annotations

import time

import pytest
from bridges import Expat

DOCUMENT = b'<log level="2"><entry id="1"/><entry id="2">text</entry></log>'


@pytest.fixture
def expat():
    with Expat() as bridge:
        yield bridge


def test_handlers_kept_in_an_exit_stack_serve_later_calls(expat):
    seen = []
    expat.set_handlers(
        lambda name, attributes: seen.append(("start", name, dict(attributes))),
        lambda name: seen.append(("end", name)),
    )
    assert expat.feed(DOCUMENT[:20], False) == 1  # a later call, then another
    assert expat.feed(DOCUMENT[20:], True) == 1
    assert seen == [
        ("start", "log", {"level": "2"}),
        ("start", "entry", {"id": "1"}),
        ("end", "entry"),
        ("start", "entry", {"id": "2"}),
        ("end", "entry"),
        ("end", "log"),
    ]
    expat.release_handlers()


def test_a_kept_handler_that_raises_fails_the_call_during_which_it_ran(expat):
    def on_start(name, attributes):
        if name == "entry":
            raise LookupError(f"no such entry: {attributes['id']}")

    expat.set_handlers(on_start, lambda name: None)
    with pytest.raises(LookupError, match="no such entry: 1") as raised:
        expat.feed(DOCUMENT, True)
    assert "on_start" in str(raised.value)  # the client's traceback, through the server
    expat.release_handlers()  # raised once: not again when the block ends
    assert expat.feed(b"", True) in (0, 1)  # the bridge goes on


def test_a_handler_released_too_early_is_loud_and_does_not_crash(expat, capfd):
    seen = []
    expat.set_handlers_for_this_call_only(lambda name, attributes: seen.append(name), print)
    assert expat.feed(DOCUMENT, True) == 1  # no segfault: the library gets nothing back
    assert seen == []
    err = ""
    for _ in range(200):  # the server's stderr reaches the client's through a thread
        err += capfd.readouterr().err
        if "ExitStack" in err:
            break
        time.sleep(0.01)
    assert "after its c_callback block had ended" in err
    assert "ExitStack" in err
