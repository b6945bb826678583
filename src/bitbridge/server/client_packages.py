"""The last resort of the server's imports: pure-Python modules of the client's environment.

The client sends the folders of its ``sys.path`` that are not its standard library (its
site-packages, the folders its ``.pth`` files add, its test folders). A finder placed at
the end of ``sys.meta_path`` looks there for top-level modules and packages the server
does not have itself: the server's standard library and its own packages always win. A
module or package that holds compiled code is refused with an ImportError that says so:
the client's extension modules are built for the client's interpreter, and a 32-bit
process cannot load a 64-bit one (the leak that msl-loadlib's users suffered).
``importlib.metadata`` sees the same distributions: those without compiled files.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import struct
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any


def is_compiled(file_name: str) -> bool:
    """True for an extension module or shared library of any platform."""
    return file_name.endswith((".so", ".pyd", ".dylib")) or ".so." in file_name


class ClientPackageFinder(importlib.abc.MetaPathFinder):
    """Find top-level pure-Python modules and packages in the client's folders."""

    def __init__(self, folders: Sequence[str]) -> None:
        self.folders = [folder for folder in folders if os.path.isdir(folder)]
        self._listings: dict[str, set[str]] = {}
        self._compiled: dict[str, list[str]] = {}
        self._pure_distributions: dict[str, bool] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if path is not None or "." in fullname:
            return None  # a submodule: found through its package's __path__
        portions: list[str] = []
        for folder in self.folders:
            names = self._listing(folder)
            package = os.path.join(folder, fullname)
            init = os.path.join(package, "__init__.py")
            if fullname in names and os.path.isfile(init):
                self._refuse_compiled(fullname, package, self._compiled_in(package))
                return importlib.util.spec_from_file_location(
                    fullname, init, submodule_search_locations=[package]
                )
            if f"{fullname}.py" in names:
                return importlib.util.spec_from_file_location(
                    fullname, os.path.join(folder, f"{fullname}.py")
                )
            compiled = [
                name for name in names if name.startswith(f"{fullname}.") and is_compiled(name)
            ]
            self._refuse_compiled(fullname, folder, [os.path.join(folder, n) for n in compiled])
            if fullname in names and os.path.isdir(package):
                portions.append(package)  # a namespace package's portion, if nothing else
        if not portions:
            return None
        for portion in portions:
            self._refuse_compiled(fullname, portion, self._compiled_in(portion))
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = portions
        return spec

    def find_distributions(self, context: Any = None) -> Iterable[Any]:
        """The client's distributions without compiled files, for ``importlib.metadata``
        (after the server's own, which its path finder returns first)."""
        from importlib.metadata import DistributionFinder, MetadataPathFinder

        context = context or DistributionFinder.Context()
        if context.path is not sys.path:
            return ()  # the caller named the folders to search
        client = DistributionFinder.Context(name=context.name, path=self.folders)
        return filter(self._pure, MetadataPathFinder.find_distributions(client))

    def _pure(self, distribution: Any) -> bool:
        key = str(getattr(distribution, "_path", id(distribution)))
        if key not in self._pure_distributions:
            files = distribution.files or ()
            self._pure_distributions[key] = not any(is_compiled(file.name) for file in files)
        return self._pure_distributions[key]

    def _listing(self, folder: str) -> set[str]:
        if folder not in self._listings:
            try:
                self._listings[folder] = set(os.listdir(folder))
            except OSError:
                self._listings[folder] = set()
        return self._listings[folder]

    def _compiled_in(self, folder: str) -> list[str]:
        """The compiled files below ``folder``, sorted."""
        if folder not in self._compiled:
            self._compiled[folder] = sorted(
                os.path.join(root, name)
                for root, _, files in os.walk(folder)
                for name in files
                if is_compiled(name)
            )
        return self._compiled[folder]

    def _refuse_compiled(self, fullname: str, location: str, compiled: list[str]) -> None:
        if not compiled:
            return
        bits = struct.calcsize("P") * 8
        more = f" and {len(compiled) - 1} more" if len(compiled) > 1 else ""
        raise ModuleNotFoundError(
            f"cannot import {fullname!r} in the server: the server's interpreter lacks it, "
            f"and the client's copy ({location}) holds compiled code ({compiled[0]}{more}), "
            f"built for the client's interpreter, which this {bits}-bit server cannot load. "
            f"Install a {bits}-bit build of {fullname!r} where the server's interpreter "
            "finds it, or use a frozen server with it built in (see bitbridge's docs, "
            '"Frozen server"); or import it only in code that runs in the client.',
            name=fullname,
            path=location,
        )


def install(folders: Sequence[str]) -> ClientPackageFinder | None:
    """Put a finder for ``folders`` at the end of ``sys.meta_path``; None if there are none."""
    if not folders:
        return None
    finder = ClientPackageFinder(folders)
    sys.meta_path.append(finder)
    return finder
