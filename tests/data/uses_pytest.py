"""A bridge whose module imports pytest, which no server has of its own: it comes from
the client's environment (pure Python)."""

import pytest

from bitbridge import Bridge, remote32


class UsesPytest(Bridge):
    libtype = None

    @remote32(copy=True)
    def pytest_file(self) -> str:
        return pytest.__file__
