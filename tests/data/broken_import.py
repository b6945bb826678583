"""A bridge whose module fails to import in the server only (it needs a package that the
server lacks)."""

import struct

from bitbridge import Bridge

if struct.calcsize("P") == 4:
    import package_that_the_server_lacks  # noqa: F401


class Broken(Bridge):
    libtype = None
