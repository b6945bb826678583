"""bitbridge's pytest plugin, which pytest loads wherever bitbridge is installed (the
``pytest11`` entry point ``bitbridge``; ``-p no:bitbridge`` turns it off).

- The ``bitbridge_session`` fixture starts bridges once per test session and closes them
  when it ends; it skips the tests that need one when no 32-bit interpreter exists.
- A test that leaves a server process running fails at its teardown, naming it, and the
  server is killed.

It imports nothing of bitbridge's client until a test starts a bridge.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from bitbridge.bridge import Bridge
    from bitbridge.client.process import ServerProcess

B = TypeVar("B", bound="Bridge")

#: Servers started by the bitbridge_session fixture or by fixtures wider than a test:
#: they outlive the test that first needed them, as they should.
_LONG_LIVED: set[ServerProcess] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "bitbridge_skip_without_interpreter",
        "bitbridge_session skips a test when no 32-bit interpreter exists (default); "
        "false: it fails instead",
        type="bool",
        default=True,
    )
    parser.addini(
        "bitbridge_check_leftover_servers",
        "fail a test that leaves a bitbridge server process running (default true)",
        type="bool",
        default=True,
    )


def running_servers() -> set[ServerProcess]:
    """The server processes started in this process that still run (none if no bridge
    was ever started: the client is not even imported then)."""
    process = sys.modules.get("bitbridge.client.process")
    return set(process.running_servers()) if process is not None else set()


class BridgeStarter:
    """Start bridges for the test session: one per class and constructor arguments,
    restarted if an earlier test closed it or crashed its server."""

    def __init__(self, skip_without_interpreter: bool) -> None:
        self.skip_without_interpreter = skip_without_interpreter
        self._shared: dict[Any, Bridge] = {}
        self._started: list[Bridge] = []

    def __call__(self, cls: type[B], *args: Any, **kwargs: Any) -> B:
        """Return the session's started ``cls(*args, **kwargs)``."""
        from bitbridge.bridge import _session
        from bitbridge.errors import InterpreterNotFound

        key = _key(cls, args, kwargs)
        bridge: Any = self._shared.get(key) if key is not None else None
        if bridge is not None:
            if _session(bridge).closed:
                bridge.restart()
                _keep_alive(bridge)
            return bridge  # type: ignore[no-any-return]
        try:
            bridge = cls(*args, **kwargs)
        except InterpreterNotFound as exc:
            if not self.skip_without_interpreter:
                raise
            cause = str(exc).splitlines()[0].removesuffix(" Looked at:")
            pytest.skip(
                f"bitbridge: {cls.__qualname__} needs a 32-bit server: {cause} "
                "(`bitbridge doctor` tells where it looked and how to get one)"
            )
        _keep_alive(bridge)
        self._started.append(bridge)
        if key is not None:
            self._shared[key] = bridge
        return bridge  # type: ignore[no-any-return]

    def close_all(self) -> None:
        """Close every bridge started, the last first."""
        for bridge in reversed(self._started):
            bridge.close()
        self._started.clear()
        self._shared.clear()


def _keep_alive(bridge: Any) -> None:
    """Let the bridge's server outlive the test that started it (an in-process bridge
    has none)."""
    from bitbridge.bridge import _session

    process = getattr(_session(bridge), "process", None)
    if process is not None:
        _LONG_LIVED.add(process)


def _key(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What identifies a shared bridge; None for unhashable arguments (not shared)."""
    key = (cls, args, tuple(sorted(kwargs.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


@pytest.fixture(scope="session")
def bitbridge_session(pytestconfig: pytest.Config) -> Iterator[BridgeStarter]:
    """Start bridges shared by the whole test session: ``bitbridge_session(Cls, *args,
    **kwargs)`` returns a started bridge, the same one for the same class and (hashable)
    arguments; all are closed when the session ends. Skips the test when no 32-bit
    interpreter exists (ini ``bitbridge_skip_without_interpreter = false``: fails)."""
    starter = BridgeStarter(bool(pytestconfig.getini("bitbridge_skip_without_interpreter")))
    yield starter
    starter.close_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Iterator[None]:
    """Servers that a fixture wider than a test starts live as long as that fixture."""
    if fixturedef.scope == "function":
        yield
        return
    before = running_servers()
    yield
    _LONG_LIVED.update(running_servers() - before)


@pytest.fixture(autouse=True)
def bitbridge_leftover_servers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a bitbridge server running, and kill that server (ini
    ``bitbridge_check_leftover_servers = false`` turns the check off)."""
    if not request.config.getini("bitbridge_check_leftover_servers"):
        yield
        return
    before = running_servers()
    yield
    left = running_servers() - before - _LONG_LIVED
    if left:
        gc.collect()  # a bridge nothing refers to is closed by its finalizer
        left = running_servers() - before - _LONG_LIVED
    if not left:
        return
    for server in left:
        server.kill()
    servers = ", ".join(f"pid {server.pid} ({server.owner})" for server in left)
    owner = next(iter(left)).owner
    pytest.fail(
        f"bitbridge: this test left {len(left)} server process(es) running: {servers}; "
        f"killed now. Close each bridge a test starts (`with {owner}(...) as bridge:` or "
        "`bridge.close()`), or share one with the bitbridge_session fixture.",
        pytrace=False,
    )
