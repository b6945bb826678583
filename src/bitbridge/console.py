"""``bitbridge serve``: start a bridge by hand and explore it in an interactive console.

Runs in the client, from the command line.
"""

from __future__ import annotations

import code
import sys
from pathlib import Path
from typing import Any

from bitbridge.bridge import Bridge, server_info
from bitbridge.modules import load_from_file


def load_bridge_class(module_file: str, class_name: str) -> type[Bridge]:
    """Import ``module_file`` (its main block does not run) and return its bridge class."""
    path = Path(module_file).resolve()
    if not path.is_file():
        raise SystemExit(f"bitbridge serve: no such file: {path}")
    sys.path.insert(0, str(path.parent))
    try:
        module = load_from_file(path.stem, path)
    except ImportError as exc:
        raise SystemExit(f"bitbridge serve: {exc}") from None
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, Bridge)):
        classes = sorted(
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, Bridge) and value is not Bridge
        )
        raise SystemExit(
            f"bitbridge serve: {path.name} defines no bridge class {class_name!r}; "
            f"its bridge classes: {', '.join(classes) or 'none'}"
        )
    return found


def serve(module_file: str, class_name: str, python32: str | None = None) -> int:
    """Start the bridge, open a console with it bound to ``bridge``, close it at the end."""
    cls = load_bridge_class(module_file, class_name)
    if python32 is not None:
        cls = cls.configure(python32=python32)
    with cls() as bridge:
        namespace: dict[str, Any] = {"bridge": bridge, class_name: cls}
        banner = (
            f"bitbridge serve: {class_name} from {module_file}\n"
            f"server: {server_info(bridge)}\n"
            "`bridge` is the started bridge, `bridge.lib` the library in the server. "
            "Ctrl-D (Ctrl-Z on Windows) closes it."
        )
        code.interact(banner=banner, local=namespace, exitmsg="bitbridge serve: closed")
    return 0
