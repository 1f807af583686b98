"""Lookup: from a key to a kept, restricted, audited overview.

The connector registry (types from entry points, instances from config), the engine
(fan-out under one deadline, key expansion, stale answers), the result cache (and its
shared Redis level, :mod:`borgersag.lookup.shared_cache`; its ``[cache]`` table,
:mod:`borgersag.lookup.section`), the shared state of breakers and kill switches
(:mod:`borgersag.lookup.shared_state`), the
:class:`~borgersag.lookup.portal.Portal` that holds them, and the use cases every
channel calls (:mod:`borgersag.lookup.usecases`: lookup, Mit skrivebord, Mine sager;
:mod:`borgersag.lookup.cases`: case detail; :mod:`borgersag.lookup.documents`: the one
download path), the key kinds each channel takes (:mod:`borgersag.lookup.channels`) and
the ports the channels fill in (:mod:`borgersag.lookup.ports`).

May import: :mod:`borgersag.audit`, :mod:`borgersag.people`, :mod:`borgersag.config`,
:mod:`borgersag.sdk`, :mod:`borgersag.domain`, :mod:`borgersag.runtime`.
Never the web layer, the CLI, the sandbox or the test kit.
"""
