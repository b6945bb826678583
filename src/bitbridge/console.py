"""``bitbridge serve``: start a bridge by hand and explore it in an interactive console.

Runs in the client, from the command line.
"""

from __future__ import annotations

import code
import sys
import traceback
from pathlib import Path
from typing import Any

from bitbridge.bridge import Bridge, server_info
from bitbridge.errors import BridgeError
from bitbridge.modules import load_from_file


class ServeError(Exception):
    """``bitbridge serve`` cannot start the bridge; the message says why."""


def load_bridge_class(module_file: str, class_name: str) -> type[Bridge]:
    """Import ``module_file`` (its main block does not run) and return its bridge class."""
    path = Path(module_file).resolve()
    if not path.is_file():
        raise ServeError(f"no such file: {path}")
    sys.path.insert(0, str(path.parent))
    try:
        module = load_from_file(path.stem, path)
    except Exception as exc:
        raise ServeError(f"importing {path} failed:\n{_user_traceback(exc, path)}") from None
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, Bridge)):
        classes = sorted(
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, Bridge) and value is not Bridge
        )
        raise ServeError(
            f"{path.name} defines no bridge class {class_name!r}; "
            f"its bridge classes: {', '.join(classes) or 'none'}"
        )
    return found


def _user_traceback(exc: BaseException, path: Path) -> str:
    """The frames of ``exc`` in the user's file (not bitbridge's nor importlib's), and
    the exception itself."""
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == str(path)
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def serve(
    module_file: str,
    class_name: str,
    python32: str | None = None,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> int:
    """Start the bridge with ``args`` and ``kwargs``, open a console with it bound to
    ``bridge``, close it at the end."""
    cls = load_bridge_class(module_file, class_name)
    if python32 is not None:
        cls = cls.configure(python32=python32)
    args, kwargs = args or [], kwargs or {}
    call = ", ".join([*map(repr, args), *(f"{name}={value!r}" for name, value in kwargs.items())])
    try:
        bridge = cls(*args, **kwargs)
    except BridgeError:
        raise
    except Exception as exc:  # the arguments do not fit, or the user's __init__ raised
        raise ServeError(f"{class_name}({call}) raised {type(exc).__name__}: {exc}") from None
    with bridge:
        namespace: dict[str, Any] = {"bridge": bridge, class_name: cls}
        banner = (
            f"bitbridge serve: {class_name}({call}) from {module_file}\n"
            f"server: {server_info(bridge)}\n"
            "`bridge` is the started bridge, `bridge.lib` the library in the server; Tab "
            "completes names. Ctrl-D (Ctrl-Z on Windows) closes it."
        )
        enable_completion(namespace)
        code.interact(banner=banner, local=namespace, exitmsg="bitbridge serve: closed")
    return 0


def enable_completion(namespace: dict[str, Any]) -> bool:
    """Let Tab complete names of ``namespace`` (and their attributes, the server half's
    too) where readline exists; return whether it does."""
    try:
        import readline
    except ImportError:  # Windows without a readline module
        return False
    import rlcompleter

    readline.set_completer(rlcompleter.Completer(namespace).complete)
    if "libedit" in (readline.__doc__ or ""):  # macOS's readline is libedit
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    return True
