"""``python -m bitbridge``: the bitbridge command."""

from __future__ import annotations

import sys

from bitbridge.cli import main

sys.exit(main())
