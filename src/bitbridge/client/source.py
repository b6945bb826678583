"""Where the server finds the user's class: its module's file or, for a class of a
``__main__`` without a file (a Jupyter or IPython cell, Python 3.13's prompt), a module
built here from source.

That module holds the class's source and what the code that runs in the server (the
class body, ``__init__``, the ``@remote32`` methods and the methods they call on
``self``) uses from the session, by the kind of value each name holds: a module becomes
an import, a plain literal its ``repr``, a function or class of another module a
from-import, a function or class of the session (or a class an assignment built, like a
``CFUNCTYPE`` prototype) the source of the statement that defined it, and so on for what
that uses. Nothing else crosses, and never bytecode or pickles: the server's Python may
be another version than the client's.
"""

from __future__ import annotations
import __future__  # the flag of `from __future__ import annotations`

import ast
import dis
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from types import CodeType, ModuleType
from typing import Any

from bitbridge import errors
from bitbridge.bridge import BridgeMeta
from bitbridge.client.cells import SessionSource
from bitbridge.remote import remote_spec

#: The file name the server compiles a built module under: not a file, but its folder,
#: the session's working directory, is where a relative ``library`` name is looked up.
SOURCE_NAME = "<__main__ sent by bitbridge>"

# The instructions that name a global of the module (the last one: 3.12+, class bodies).
_GLOBAL_OPS = frozenset(
    {"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_FROM_DICT_OR_GLOBALS"}
)
_LITERAL_TYPES = (int, float, complex, str, bytes, bool, type(None), tuple, list, dict, set)
_FUTURE_ANNOTATIONS: int = __future__.annotations.compiler_flag

_ADVICE = (
    "What crosses to the server is the class's source and, of the names its server-side "
    "code uses, modules (as imports), plain literals (as their values), and functions and "
    "classes (as their source). Pass such an object to the remote method as an argument "
    "(arguments travel by value), create it inside the method, or move the code into a .py "
    "file and import it."
)


def defining_module(cls: type) -> tuple[str, str | None]:
    """Return the file the server imports ``cls`` from, and None; or, for a class of a
    ``__main__`` without a file, a name in the working directory and the module's source."""
    if "<locals>" in cls.__qualname__:
        raise errors.StartError(
            f"{cls.__qualname__} is defined inside a function; the server imports the class "
            "by name, so define it at the top level of its module."
        )
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if path and not _typed_in(cls):
        return os.path.abspath(str(path)), None
    if module is None or cls.__module__ != "__main__":
        raise errors.StartError(
            f"{cls.__qualname__} is defined in {cls.__module__!r}, which has no file; the "
            "server imports the class by file path, so define it in a .py file."
        )
    return os.path.join(os.getcwd(), SOURCE_NAME), main_source(cls, vars(module))


def main_source(cls: type, namespace: Mapping[str, Any]) -> str:
    """Return the source of a module that defines ``cls`` of the session whose globals
    are ``namespace``, with what its server-side code needs; StartError if that cannot
    be sent."""
    root = namespace.get(cls.__qualname__)
    root = root if isinstance(root, type) else cls  # configure() made cls from it
    builder = _Builder(namespace, SessionSource(namespace), _flags(root))
    builder.visited.add(cls.__qualname__)
    if not builder.define(cls.__qualname__, root):
        raise errors.StartError(
            f"{cls.__qualname__} is defined in '__main__', whose source Python did not keep "
            "(python -c or the interactive prompt of Python 3.12 and older, exec() of a "
            "string, a cell magic such as %%time), and the server builds the class from its "
            "source. Put the class in a .py file and import it, or run that file as a "
            "script; classes defined in Jupyter or IPython cells work."
        )
    if builder.unsendable:
        raise errors.StartError(
            f"the server half of {cls.__qualname__} uses names of '__main__' that cannot be "
            "sent to the server:\n  - " + "\n  - ".join(builder.unsendable) + f"\n{_ADVICE}"
        )
    return builder.module_text(cls.__qualname__)


class _Builder:
    """Collects the parts of the module, following each name to what it needs."""

    def __init__(self, namespace: Mapping[str, Any], source: SessionSource, flags: int) -> None:
        self.namespace, self.source, self.flags = namespace, source, flags
        self.imports: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.definitions: list[str] = []  # in dependency order: what is used comes first
        self.unsendable: list[str] = []
        self.visited: set[str] = set()

    def need(self, name: str, user: str) -> None:
        """Send ``name`` of the session, needed by the definition ``user``."""
        if name in self.visited or name not in self.namespace or _is_dunder(name):
            return  # done already, a builtin (or undefined, as in the client), or __name__
        self.visited.add(name)
        value = self.namespace[name]
        statement = self._import(name, value)
        if statement is not None:
            self.imports[name] = statement
        elif _is_literal(value):
            self.values[name] = f"{name} = {value!r}"
        elif not _is_definition(value):
            what = f"a {_type_name(value)}{self.source.where(name)}"
            self.unsendable.append(f"{name} ({what}), used by {user}")
        elif not self.define(name, value):
            what = f"a {_type_name(value)} whose source is not available"
            self.unsendable.append(f"{name} ({what}), used by {user}")

    def define(self, name: str, value: Any) -> bool:
        """Send the statement that defined ``name``, after what it needs; False if none
        is found."""
        found = self.source.definition(name, _codes(value))
        if found is None:
            return False
        cell, node = found
        text = cell.segment(node)
        code = compile(text, cell.label, "exec", flags=self.flags, dont_inherit=True)
        class_name = node.name if isinstance(node, ast.ClassDef) else None
        client_side = _client_methods(value) if class_name and isinstance(value, type) else None
        for needed in sorted(_global_names(code, class_name, client_side or frozenset())):
            self.need(needed, name)
        self.definitions.append(f"# {name}: {cell.label}\n{text}")
        return True

    def _import(self, name: str, value: Any) -> str | None:
        """The import that binds ``value`` to ``name``: a module, or a function or class
        of a module (the session's own import statement if it has one); None otherwise."""
        if isinstance(value, ModuleType):
            alias = "" if value.__name__ == name else f" as {name}"
            return self.source.import_of(name, value) or f"import {value.__name__}{alias}"
        reference = _reference(value)
        if reference is None:
            return None
        alias = "" if reference[1] == name else f" as {name}"
        imported = f"from {reference[0]} import {reference[1]}{alias}"
        return self.source.import_of(name, value) or imported

    def module_text(self, class_name: str) -> str:
        future = ["from __future__ import annotations"] if self.flags else []
        header = [
            f"# {class_name} and what its server half uses of the client's '__main__', sent "
            f"by bitbridge from Python {sys.version.split()[0]}.",
        ]
        parts = [*header, *future, *self.imports.values(), *self.values.values()]
        return "\n".join(parts) + "\n\n\n" + "\n\n".join(self.definitions)


def _is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` is a literal that gives ``value`` back."""
    if type(value) not in _LITERAL_TYPES:  # exactly: an IntEnum member is no literal
        return False
    text = repr(value)
    try:
        return repr(ast.literal_eval(text)) == text
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _reference(value: Any) -> tuple[str, str] | None:
    """The module and name that import ``value`` (a function or class of another module)."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    if module_name == "__main__" or not qualname.isidentifier():
        return None
    found = getattr(sys.modules.get(module_name), qualname, None)
    return (module_name, qualname) if found is value else None


def _unwrapped(value: Any) -> Any:
    try:
        return inspect.unwrap(value)
    except ValueError:  # a cycle of __wrapped__
        return value


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _is_definition(value: Any) -> bool:
    return isinstance(value, type) or inspect.isfunction(_unwrapped(value))


def _type_name(value: Any) -> str:
    kind = type(value)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _function_code(attribute: Any) -> CodeType | None:
    """The code of a function, a method (proxied, static, class) or a property's getter."""
    for candidate in (
        attribute,
        getattr(attribute, "__func__", None),
        getattr(attribute, "fget", None),
    ):
        code = getattr(_unwrapped(candidate), "__code__", None)
        if isinstance(code, CodeType):
            return code
    return None


def _codes(value: Any) -> Iterator[CodeType]:
    """Code objects that tell where ``value`` was defined: its own, or its methods'."""
    attributes = vars(value).values() if isinstance(value, type) else [value]
    for attribute in attributes:
        code = _function_code(attribute)
        if code is not None:
            yield code


def _typed_in(cls: type) -> bool:
    """Whether the class was compiled from typed input (``<python-input-3>``, ``<stdin>``),
    not from its module's file: Python 3.13's prompt gives ``__main__`` a ``__file__`` of
    its own, and so does ``python -i script.py``."""
    filenames = {code.co_filename for code in _codes(cls)}
    return bool(filenames) and all(name.startswith("<") for name in filenames)


def _flags(cls: type) -> int:
    """The ``from __future__ import annotations`` flag, if the class was compiled with it."""
    return next((code.co_flags & _FUTURE_ANNOTATIONS for code in _codes(cls)), 0)


def _client_methods(cls: type) -> frozenset[str]:
    """The methods of a bridge class that run only in the client: not ``@remote32``, not
    ``__init__``, and not called on ``self`` by those (a name they use)."""
    if not isinstance(cls, BridgeMeta):
        return frozenset()  # another class the server code uses: all of it may run there
    methods = {name: code for name, a in vars(cls).items() if (code := _function_code(a))}
    server = {name for name, a in vars(cls).items() if remote_spec(a)} | {"__init__"}
    pending = list(server & methods.keys())
    while pending:
        for used in _all_names(methods[pending.pop()]) & methods.keys() - server:
            server.add(used)
            pending.append(used)
    return frozenset(methods.keys() - server)


def _all_names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _all_names(const)
    return names


def _global_names(
    code: CodeType, class_name: str | None = None, client_side: frozenset[str] = frozenset()
) -> set[str]:
    """The globals that ``code`` and the code nested in it name; in the body of the class
    ``class_name``, the methods named in ``client_side`` are left out."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in _GLOBAL_OPS}
    for const in code.co_consts:
        if not isinstance(const, CodeType):
            continue
        if const.co_name == class_name:
            names |= {i.argval for i in dis.get_instructions(const) if i.opname in _GLOBAL_OPS}
            for method in const.co_consts:
                if isinstance(method, CodeType) and method.co_name not in client_side:
                    names |= _global_names(method)
        else:
            names |= _global_names(const)
    return names
