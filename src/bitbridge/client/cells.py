"""The source an interactive session ran, searched statement by statement: IPython's input
history (``In``, every cell as it was compiled) and what ``linecache`` keeps of the files
code was compiled under (ipykernel's cell files, Python 3.13's ``<python-input-N>``)."""

from __future__ import annotations

import ast
import copy
import functools
import linecache
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import CodeType
from typing import Any

_DEFINING = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
_DEF = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)


@dataclass(frozen=True)
class Cell:
    """Source the session ran: a cell of IPython's history, or a file of linecache."""

    label: str  # "In[3]", or the name the source was compiled under
    text: str

    def segment(self, node: ast.stmt) -> str:
        """The source of the top-level statement ``node`` (with its decorators)."""
        if isinstance(node, _DEF):
            return "\n".join(self.text.splitlines()[_first_line(node) - 1 : node.end_lineno]) + "\n"
        return (ast.get_source_segment(self.text, node) or ast.unparse(node)) + "\n"


class SessionSource:
    """The cells of the session whose globals are ``namespace`` (none outside IPython)."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        inputs = namespace.get("In")
        if "get_ipython" in namespace and isinstance(inputs, list):
            self.cells = [Cell(f"In[{n}]", text) for n, text in enumerate(inputs) if text]
        else:
            self.cells = []

    def definition(self, name: str, codes: Iterable[CodeType]) -> tuple[Cell, ast.stmt] | None:
        """The statement that bound ``name`` to a function or class: found where its code
        (``codes``: its own, or its methods') was compiled, else the history's last
        ``def``, ``class`` or assignment of ``name``."""
        for code in codes:
            text = "".join(linecache.getlines(code.co_filename))
            for node in reversed(_statements(text)):
                end = node.end_lineno or node.lineno
                if _binds(node, name) and _first_line(node) <= code.co_firstlineno <= end:
                    return Cell(self._label(code.co_filename, text), text), node
        return self._last(name, _DEFINING)

    def import_of(self, name: str, value: Any) -> str | None:
        """The history's import statement that bound ``value`` to ``name``, cut down to
        that name (``import xml.etree.ElementTree`` keeps its submodule); None if none."""
        found = self._last(name, _IMPORTS)
        if found is None:
            return None
        node = copy.copy(found[1])
        assert isinstance(node, _IMPORTS)
        node.names = [alias for alias in node.names if _bound_name(alias) == name]
        if isinstance(node, ast.ImportFrom) and node.level:
            return None  # relative: nothing to import it from in the server
        return ast.unparse(node) if _gives(node, node.names[0], value) else None

    def where(self, name: str) -> str:
        """``, assigned in In[4]`` for the cell that last bound ``name``, or nothing."""
        found = self._last(name, (ast.stmt,))
        return f", assigned in {found[0].label}" if found else ""

    def _last(self, name: str, kinds: tuple[type[ast.stmt], ...]) -> tuple[Cell, ast.stmt] | None:
        for cell in reversed(self.cells):
            for node in reversed(_statements(cell.text)):
                if isinstance(node, kinds) and _binds(node, name):
                    return cell, node
        return None

    def _label(self, filename: str, text: str) -> str:
        for cell in reversed(self.cells):
            if cell.text.rstrip() == text.rstrip():
                return cell.label
        return filename


@functools.lru_cache(maxsize=256)
def _statements(text: str) -> tuple[ast.stmt, ...]:
    try:
        return tuple(ast.parse(text).body) if text.strip() else ()
    except (SyntaxError, ValueError):
        return ()


def _bound_name(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


def _binds(node: ast.stmt, name: str) -> bool:
    """Whether the top-level statement ``node`` binds ``name``."""
    if isinstance(node, _DEF):
        return node.name == name
    if isinstance(node, _IMPORTS):
        return any(_bound_name(alias) == name for alias in node.names)
    return any(
        isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store) and target.id == name
        for target in ast.walk(node)
    )


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _gives(node: ast.Import | ast.ImportFrom, alias: ast.alias, value: Any) -> bool:
    """Whether the import ``alias`` of ``node`` gives ``value`` in this process."""
    if isinstance(node, ast.Import):
        return sys.modules.get(alias.name if alias.asname else _bound_name(alias)) is value
    module = sys.modules.get(node.module or "")
    submodule = sys.modules.get(f"{node.module}.{alias.name}")
    return getattr(module, alias.name, None) is value or submodule is value
