"""A script that starts its bridge at module level, without a main guard: the server,
which imports this file, must say so clearly."""

from bitbridge import Bridge, remote32


class Unguarded(Bridge):
    libtype = None

    @remote32
    def ping(self) -> str:
        return "pong"


with Unguarded() as bridge:
    print(bridge.ping())
