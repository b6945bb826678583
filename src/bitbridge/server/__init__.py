"""The 32-bit server's side of a bridge: runs in the server process only.

``bootstrap`` is the entry script (standard library only until bitbridge is importable),
``host`` serves the connection and runs the user's remote methods, ``library`` finds and
loads the shared library, ``dotnet`` hosts .NET assemblies on Mono. The client never
imports this package.
"""
