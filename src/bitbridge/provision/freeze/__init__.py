"""The freeze tool's 32-bit side: scripts that the 32-bit Python runs by file path, with
the standard library and PyInstaller only (``bitbridge server32 build`` runs them).

``freeze32.py`` freezes the server with PyInstaller; on Linux ``standalone.py`` then puts
the i386 loader and C library in the build; ``server32_entry.py`` is the frozen server's
entry point. They import each other by plain name, never through this package.
"""
