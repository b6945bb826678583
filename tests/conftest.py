from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from bridges import Recorder
from cpp import Cpp
from dotnet import DotNet
from echo import Echo
from fortran import Fortran
from layouts import Layouts
from libc import Libc
from native32 import DATA, build32

from bitbridge import Bridge, server_info

#: The tests' own WINEPREFIX, made once and reused (the Makefile names the same).
WINE_PREFIX = Path(__file__).resolve().parent.parent / "build" / "wine-prefix"

# tests/windows/ runs in the Windows Python under Wine (tests/test_windows_suite.py).
collect_ignore_glob = [] if sys.platform == "win32" else ["windows/*"]


def pytest_configure(config: pytest.Config) -> None:
    # The bridge tests need the 32-bit interpreter that `make test` provisions; fail
    # loudly rather than skip when it is absent.
    from bitbridge.client.interpreter import find_interpreter

    find_interpreter()
    if sys.platform != "win32":
        os.environ.setdefault("BITBRIDGE_WINE_PREFIX", str(WINE_PREFIX))


def pytest_unconfigure(config: pytest.Config) -> None:
    # End the tests' wineserver now rather than a few seconds after the last server.
    if sys.platform != "win32" and os.environ.get("BITBRIDGE_WINE_PREFIX") == str(WINE_PREFIX):
        from bitbridge.client.wine import stop_wineserver

        stop_wineserver(WINE_PREFIX)


B = TypeVar("B", bound=Bridge)


def started_32bit(cls: type[B]) -> Iterator[B]:
    """Start a bridge for a test session, checking that its server is 32-bit."""
    with cls() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture(scope="session")
def echo() -> Iterator[Echo]:
    yield from started_32bit(Echo)


#: Where the C++ example runs: natively, and from Linux also as its Windows DLL under
#: Wine over each transport (on Windows, ``Cpp`` loads the DLL itself).
CPP_HOSTS = ["native"] if sys.platform == "win32" else ["native", "wine_fd", "wine_tcp"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module that sets CPP_EVERYWHERE runs its tests in each of CPP_HOSTS.
    if getattr(metafunc.module, "CPP_EVERYWHERE", False) and "cpp" in metafunc.fixturenames:
        metafunc.parametrize("cpp", CPP_HOSTS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def cpp(request: pytest.FixtureRequest) -> Iterator[Cpp]:
    where = getattr(request, "param", "native")
    if where == "native":
        yield from started_32bit(Cpp)
    else:
        from cpp import CppWindows
        from wine_tools import started_under_wine

        yield from started_under_wine(CppWindows, where.removeprefix("wine_"))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as bridge:
        yield bridge


@pytest.fixture(scope="session")
def fortran() -> Iterator[Fortran]:
    yield from started_32bit(Fortran)


@pytest.fixture(scope="session")
def libc() -> Iterator[Libc]:
    yield from started_32bit(Libc)


@pytest.fixture(scope="session")
def dotnet() -> Iterator[DotNet]:
    yield from started_32bit(DotNet)


@pytest.fixture(scope="session")
def layouts_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/layouts.c built for i386."""
    return build32(DATA / "layouts.c", tmp_path_factory.mktemp("layouts") / "layouts32.so")


@pytest.fixture(scope="session")
def layouts(layouts_library: Path) -> Iterator[Layouts]:
    yield from started_32bit(Layouts.configure(library=str(layouts_library)))
