"""The sandbox municipality: generated data and three HTTP services shaped like real systems.

Start it with :func:`borgersag.sandbox.runner.start_sandbox`; the data alone comes from
:func:`borgersag.sandbox.data.generate`.
"""
