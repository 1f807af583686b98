"""The built-in connectors: SBSYS, ejerfortegnelse, byggesag, ZGW, Momentum, OS2mo, REST.

Each is loaded only through the entry-point group ``borgersag.connectors``, exactly like a
third-party package, and imports only the public SDK (``from borgersag import …``).

May import: :mod:`borgersag` (the root package's public names) only.
"""
