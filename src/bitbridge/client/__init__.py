"""The 64-bit client's side of a bridge: runs in the user's process only.

``session`` forwards the calls of one bridge and owns its lifetime, ``process`` starts,
watches and stops the server process, ``interpreter`` finds what hosts the server. The
32-bit server never imports this package.
"""
