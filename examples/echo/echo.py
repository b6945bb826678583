"""The echo example: values sent to a 32-bit server come back with their types intact.

No library is loaded (``libtype = None``); it shows what travels and how. Run it with
``python examples/echo/echo.py``.
"""

from __future__ import annotations

from typing import Any

from bitbridge import Bridge, remote32


class Echo(Bridge):
    """Send data to the server and get it back."""

    libtype = None

    @remote32(copy=True)
    def send_data(self, *args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Return ``(args, kwargs)`` unchanged, as a local copy."""
        return args, kwargs

    @remote32
    def send_data_by_reference(self, *args: Any, **kwargs: Any) -> Any:
        """Return ``(args, kwargs)`` by rpyc's rules: the dict comes back as a netref."""
        return args, kwargs


if __name__ == "__main__":
    with Echo() as echo:
        args, kwargs = echo.send_data(1, 2.5, "three", [4, {5: b"six"}], seven=None)
        print(args, kwargs)
