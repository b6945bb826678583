"""A bridge that uses the standard library in the server, beyond what bitbridge imports."""

from __future__ import annotations

import importlib
import warnings

from bitbridge import Bridge, remote32


class StdlibUser(Bridge):
    libtype = None

    @remote32(copy=True)
    def unimportable(self, names: list[str]) -> dict[str, str]:
        """Import each module; return those that fail, with the error."""
        failed = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in names:
                try:
                    importlib.import_module(name)
                except Exception as exc:
                    failed[name] = repr(exc)
        return failed

    @remote32(copy=True)
    def exercise(self) -> dict[str, object]:
        """Use modules that need shared libraries of their own (sqlite, ssl, lzma ...)."""
        import bz2
        import decimal
        import hashlib
        import lzma
        import sqlite3
        import ssl
        import zlib
        import zoneinfo

        db = sqlite3.connect(":memory:")
        total = db.execute("select sum(x) from (select 1 as x union select 2)").fetchone()[0]
        db.close()
        data = b"bitbridge" * 100
        return {
            "sqlite": total,
            "ssl": ssl.create_default_context().protocol.name,
            "decimal": str(decimal.Decimal(1) / decimal.Decimal(8)),
            "sha256": hashlib.sha256(b"").hexdigest()[:8],
            "compressed": [
                len(module.decompress(module.compress(data))) for module in (zlib, bz2, lzma)
            ],
            "zoneinfo": zoneinfo.ZoneInfo.__name__,
        }
