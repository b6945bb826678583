"""Import a Python file (or source text) as a module: how the server imports the user's
module, and how ``bitbridge serve`` imports it in the client. The standard library only."""

from __future__ import annotations

import importlib.util
import linecache
import os
import sys
from types import ModuleType


def load_from_file(name: str, path: str | os.PathLike[str]) -> ModuleType:
    """Import the file ``path`` as the module ``name`` (its ``__main__`` block does not
    run); it is in ``sys.modules`` while it runs, and taken out again if it fails."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {os.fspath(path)} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_from_source(name: str, filename: str, source: str) -> ModuleType:
    """Run ``source`` as the module ``name``, compiled under ``filename`` (not a file:
    its lines go into linecache, so that tracebacks show them); in ``sys.modules`` while
    it runs, and taken out again if it fails."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module
