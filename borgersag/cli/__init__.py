"""The ``borgersag`` command: the composition root for processes.

``borgersag demo | serve | sandbox | sandbox-fault | check-config | audit … |
connectors …``. The only layer that starts the sandbox municipality (for the demo).

May import: everything.
"""
