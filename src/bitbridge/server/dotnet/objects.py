""".NET types, objects and methods as Python objects (server side only): what a bridge's
``self.lib`` holds for ``libtype = "net"``."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bitbridge.server.dotnet.capi import (
    METHOD_STATIC,
    TABLE_TYPEDEF,
    TYPE_PUBLIC,
    TYPE_VISIBILITY_MASK,
    arity,
    class_name,
    method_name,
    param_types,
    public_methods,
)

if TYPE_CHECKING:
    from bitbridge.server.dotnet.runtime import Mono


def _accepts(mono: Mono, method: int, args: Sequence[Any]) -> bool:
    handles: list[int] = []
    types = param_types(mono.lib, mono.lib.mono_method_signature(method))
    try:
        for ptype, value in zip(types, args, strict=True):
            mono.to_net(ptype, value, [], handles)
    except (TypeError, ValueError, OverflowError):
        return False
    finally:
        for handle in handles:
            mono.free(handle)
    return True


def pick(mono: Mono, candidates: list[int], args: Sequence[Any]) -> int:
    """Of the overloads with the right arity, the first that accepts the arguments."""
    if len(candidates) > 1:
        for method in candidates:
            if _accepts(mono, method, args):
                return method
    return candidates[0]


class NetMethod:
    """A .NET method, bound to an instance or static; call it with Python values."""

    def __init__(
        self, mono: Mono, owner: str, name: str, methods: list[int], this: NetObject | None
    ) -> None:
        # Keeps the NetObject itself, not only its handle: in lib.Cls().method(...) the
        # temporary instance must stay alive until the call is made.
        self._mono, self._owner, self._name = mono, owner, name
        self._methods, self._this = methods, this

    def __call__(self, *args: Any) -> Any:
        mono = self._mono
        mono.attach()
        candidates = [m for m in self._methods if arity(mono.lib, m) == len(args)]
        if not candidates:
            raise TypeError(
                f"{self._owner}.{self._name}() has no overload taking {len(args)} arguments"
            )
        this = self._this.handle if self._this is not None else 0
        return mono.invoke(pick(mono, candidates, args), this, args)

    def __repr__(self) -> str:
        return f"<.NET method {self._owner}.{self._name}>"


def _method(mono: Mono, klass: int, name: str, static: bool, this: NetObject | None) -> NetMethod:
    """The public methods ``name`` of ``klass`` (static ones, or instance ones) as one."""
    lib = mono.lib
    methods = [
        method
        for method in public_methods(lib, klass)
        if method_name(lib, method) == name
        and bool(lib.mono_method_get_flags(method, None) & METHOD_STATIC) == static
    ]
    if not methods:
        kind = "static method" if static else "method"
        raise AttributeError(f"{class_name(lib, klass)} has no public {kind} {name!r}")
    return NetMethod(mono, class_name(lib, klass), name, methods, this)


class NetClass:
    """A .NET type: call it to construct an instance; its attributes are its static methods."""

    def __init__(self, mono: Mono, klass: int) -> None:
        self._mono, self._klass = mono, klass
        self.__name__ = class_name(mono.lib, klass)

    def __call__(self, *args: Any) -> NetObject:
        return self._mono.new(self._klass, args)

    def __getattr__(self, name: str) -> NetMethod:
        if name.startswith("__"):
            raise AttributeError(name)
        self._mono.attach()
        return _method(self._mono, self._klass, name, static=True, this=None)

    def __repr__(self) -> str:
        return f"<.NET class {self.__name__}>"


class NetObject:
    """A .NET object that a call returned or a constructor made (``lib.Ns.Class()``).

    Its attributes are its public instance methods, called with Python values
    (``obj.Method(1, "two")``); ``str(obj)`` is its ``ToString()``. It lives in the server
    (held through a GC handle, so the .NET garbage collector keeps it while Python does):
    a ``@remote32`` method uses it there, and a client gets it as a netref.
    """

    def __init__(self, mono: Mono, handle: int) -> None:
        self._mono, self.handle = mono, handle

    def _class(self) -> int:
        mono = self._mono
        mono.attach()
        pinned = mono.bb.bb_pin(self.handle)
        try:
            return mono.lib.mono_object_get_class(mono.target(pinned))  # type: ignore[no-any-return]
        finally:
            mono.free(pinned)

    def __getattr__(self, name: str) -> NetMethod:
        if name.startswith("__"):
            raise AttributeError(name)
        return _method(self._mono, self._class(), name, static=False, this=self)

    def __str__(self) -> str:
        mono = self._mono
        mono.attach()
        pinned = mono.bb.bb_pin(self.handle)
        try:
            return mono.text(pinned)
        finally:
            mono.free(pinned)

    def __repr__(self) -> str:
        return f"<.NET object {class_name(self._mono.lib, self._class())}>"

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._mono.attach()  # __del__ may run on any thread
            self._mono.free(self.handle)


class NetNamespace:
    """The types of an assembly under one namespace, and its sub-namespaces, as attributes."""

    def __init__(self, name: str, classes: dict[str, NetClass]) -> None:
        self._name, self._classes = name, classes

    def __getattr__(self, name: str) -> NetClass | NetNamespace:
        if name.startswith("__"):
            raise AttributeError(name)
        full = f"{self._name}.{name}" if self._name else name
        if full in self._classes:
            return self._classes[full]
        if any(key.startswith(full + ".") for key in self._classes):
            return NetNamespace(full, self._classes)
        raise AttributeError(f"no .NET type or namespace {full!r} in the assembly")

    def __dir__(self) -> list[str]:
        prefix = self._name + "." if self._name else ""
        return sorted(
            {k[len(prefix) :].split(".")[0] for k in self._classes if k.startswith(prefix)}
        )

    def __repr__(self) -> str:
        return f"<.NET namespace {self._name or '(global)'}>"


class NetAssembly(NetNamespace):
    """A loaded assembly: its public top-level types, reachable by namespace."""

    def __init__(self, mono: Mono, path: str, assembly: int) -> None:
        lib = mono.lib
        self.path, self.mono_version = path, mono.version
        image = lib.mono_assembly_get_image(assembly)
        classes = {}
        rows = lib.mono_image_get_table_rows(image, TABLE_TYPEDEF)
        for row in range(2, rows + 1):  # row 1 is <Module>
            klass = lib.mono_class_get(image, 0x02000000 | row)
            if not klass or lib.mono_class_get_nesting_type(klass):
                continue
            if lib.mono_class_get_flags(klass) & TYPE_VISIBILITY_MASK == TYPE_PUBLIC:
                classes[class_name(lib, klass)] = NetClass(mono, klass)
        super().__init__("", classes)

    def get_class_names(self) -> list[str]:
        """The full names of the assembly's public top-level types, in definition order."""
        return list(self._classes)

    def __repr__(self) -> str:
        return f"<.NET assembly {self.path}>"
