"""A bridge whose module hangs while importing in the server."""

import struct
import time

from bitbridge import Bridge

if struct.calcsize("P") == 4:
    time.sleep(3600)


class Hangs(Bridge):
    libtype = None
