from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bridges import Recorder
from cpp import Cpp
from dotnet import DotNet
from echo import Echo
from fortran import Fortran
from libc import Libc

from bitbridge import server_info


def pytest_configure(config: pytest.Config) -> None:
    # The bridge tests need the 32-bit interpreter that `make test` provisions; fail
    # loudly rather than skip when it is absent.
    from bitbridge.interpreter import find_interpreter

    find_interpreter()


@pytest.fixture(scope="session")
def echo() -> Iterator[Echo]:
    with Echo() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture(scope="session")
def cpp() -> Iterator[Cpp]:
    with Cpp() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as bridge:
        yield bridge


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists (a zombie counts as still there)."""
    return not os.path.exists(f"/proc/{pid}")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="session")
def fortran() -> Iterator[Fortran]:
    with Fortran() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture(scope="session")
def libc() -> Iterator[Libc]:
    with Libc() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge


@pytest.fixture(scope="session")
def dotnet() -> Iterator[DotNet]:
    with DotNet() as bridge:
        assert server_info(bridge).pointer_size == 4
        yield bridge
