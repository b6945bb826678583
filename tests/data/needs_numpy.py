"""A bridge whose module needs numpy: a frozen server lacks it unless frozen with
``--imports numpy``."""

import numpy  # noqa: F401

from bitbridge import Bridge


class NeedsNumpy(Bridge):
    libtype = None
