"""Load a .NET assembly in the 32-bit server: ``libtype = "net"``.

The server talks to Mono's C embedding API (``libmonosgen-2.0``) through ctypes, with a
small C helper, ``libbbmono.so`` (``bbmono.c``, beside this module), that hands every managed
object to Python as a GC handle. Both live in a private i386 Mono root provisioned by
``bitbridge mono32 install``. This module uses the standard library only.

Why not pythonnet: on 32-bit Linux, pythonnet 3 cannot start (its issue #1210). It
declares the Python C API with return types that are one-pointer structs; the i386
System V ABI returns such structs through a hidden first argument, which Mono follows
and CPython's functions do not, so every call into Python is shifted by one argument
and ``import clr`` fails. Windows x86 returns small structs in a register, which is why
32-bit pythonnet works there. Calling Mono directly avoids the problem altogether.

    lib = load_net("/path/dotnet_lib32.dll")            # Mono starts on first use
    lib.DotNetMSL.BasicMath().add_integers(4, 5)        # 9
    lib.StaticClass.add_multiple(1, 2, 3, 4, 5)         # a static method: 15
    lib.get_class_names()                               # ['DotNetMSL.BasicMath', ...]

Arguments are converted by the .NET parameter types: bool, every integer width
(range-checked), float, double, char, string, ``T[]`` from any sequence (a ctypes array
or ``array.array`` of the element type is copied in one go), ``T[,]`` from nested
sequences, ``object`` from bool/int/float/str, and other .NET objects. Results come back
as Python values, arrays as (nested) lists, other objects as :class:`NetObject`. A .NET
exception raises :class:`NetError`. Not supported: ``ref``/``out`` parameters, generic
methods, properties and fields.

The package's modules: ``capi`` declares Mono's C API, ``runtime`` starts Mono and
converts values, ``objects`` holds the Python face of .NET types, objects and methods.
"""

from __future__ import annotations

import os

# Re-exported (``X as X``) rather than listed in __all__: the documented list is the one
# of bitbridge.dotnet.
from bitbridge.errors import NetError as NetError
from bitbridge.paths import mono_root as mono_root
from bitbridge.server.dotnet.objects import NetAssembly as NetAssembly
from bitbridge.server.dotnet.objects import NetClass as NetClass
from bitbridge.server.dotnet.objects import NetNamespace as NetNamespace
from bitbridge.server.dotnet.objects import NetObject as NetObject
from bitbridge.server.dotnet.runtime import missing_parts as missing_parts
from bitbridge.server.dotnet.runtime import start_mono as start_mono


def load_net(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> NetAssembly:
    """Load a .NET assembly (built for x86 or AnyCPU) and return its types by namespace."""
    mono = start_mono(root)
    mono.attach()
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise FileNotFoundError(full)
    assembly = mono.lib.mono_domain_assembly_open(mono.domain, os.fsencode(full))
    if not assembly:
        raise OSError(f"Mono could not load {full} as a .NET assembly")
    return NetAssembly(mono, full, assembly)
