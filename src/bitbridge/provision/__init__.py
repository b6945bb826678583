"""Runtimes that the command line installs into bitbridge's folder: a 32-bit CPython
(``python32``) and a 32-bit Mono (``mono32``), from Debian/Ubuntu i386 packages.

Run from the command line only (``bitbridge python32 install``, ``bitbridge mono32
install``); neither half of a bridge imports it.
"""

from __future__ import annotations


class ProvisionError(RuntimeError):
    """Provisioning failed; the message says why and what to do."""
