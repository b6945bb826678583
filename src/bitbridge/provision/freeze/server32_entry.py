"""Entry point of the frozen server: bitbridge's bootstrap, as ``python -u -I bootstrap.py``.

The executable is frozen with ``--python-option u``, so stdout and stderr are unbuffered
as with ``-u``; a frozen interpreter ignores ``PYTHON*`` variables and the user's
site-packages, as with ``-I``. ``--info`` prints what the server is and exits, for
``bitbridge doctor``.

PyInstaller's run-time hook makes ctypes' loaders raise its own "not found when the
application was frozen" error instead of the dynamic loader's message, which tells a
wrong architecture or a missing dependency; the entry undoes it, so that libraries load
(and fail) exactly as in the interpreter-hosted server.
"""

from __future__ import annotations

import json
import os
import struct
import sys


def restore_ctypes() -> None:
    """Put ctypes' own library loaders back in place of PyInstaller's subclasses."""
    import ctypes

    loaders = {"CDLL": "cdll", "PyDLL": "pydll", "WinDLL": "windll", "OleDLL": "oledll"}
    for name, instance in loaders.items():
        cls = getattr(ctypes, name, None)
        if isinstance(cls, type) and cls.__name__.startswith("PyInstaller"):
            original = cls.__bases__[0]
            setattr(ctypes, name, original)
            setattr(ctypes, instance, ctypes.LibraryLoader(original))


def info() -> str:
    """Describe this server as one JSON line."""
    import bitbridge

    return json.dumps(
        {
            "pointer_size": struct.calcsize("P"),
            "python_version": sys.version.split()[0],
            "bitbridge": bitbridge.__version__,
            "executable": sys.executable,
        }
    )


def adopt_launcher_path() -> None:
    """On Linux the server runs through its launcher (``standalone.py``): report the
    launcher, the program a client ran, as ``sys.executable``."""
    launcher = os.environ.pop("BITBRIDGE_SERVER32_LAUNCHER", None)
    if launcher:
        sys.executable = launcher


if __name__ == "__main__":
    adopt_launcher_path()
    if sys.argv[1:] == ["--info"]:
        print(info())
    else:
        restore_ctypes()
        from bitbridge.server.bootstrap import main

        main()
