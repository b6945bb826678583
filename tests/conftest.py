from __future__ import annotations

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


def pytest_configure(config: pytest.Config) -> None:
    # The bridge tests need the 32-bit interpreter that `make test` provisions; fail
    # loudly rather than skip when it is absent.
    from bitbridge.client.interpreter import find_interpreter

    find_interpreter()


B = TypeVar("B", bound=Bridge)


def started_32bit(cls: type[B]) -> Iterator[B]:
    """Start a bridge for a test session, checking that its server is 32-bit."""
    with cls() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture(scope="session")
def echo() -> Iterator[Echo]:
    yield from started_32bit(Echo)


@pytest.fixture(scope="session")
def cpp() -> Iterator[Cpp]:
    yield from started_32bit(Cpp)


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
