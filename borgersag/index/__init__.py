"""The case index: subscribed citizens' case facts, kept fresh in the background, and
the changes found in them (the notification outbox :mod:`borgersag.notify` reads).

* :mod:`~borgersag.index.section` — ``[index]`` and ``[worker]``.
* :mod:`~borgersag.index.schema` and ``migrations/`` — the tables (SQLAlchemy Core;
  Alembic migrations shipped in the package, run by ``borgersag index upgrade`` and by
  every worker at start).
* :mod:`~borgersag.index.sealing` — subscribers' CPR numbers: a keyed hash to find them,
  the number itself sealed (Fernet).
* :mod:`~borgersag.index.store` — reading and writing the index and the outbox.
* :mod:`~borgersag.index.changes` — facts of a case and what changed between two.
* :mod:`~borgersag.index.refresh` — one subscriber's refresh through the lookup engine,
  audited as the municipality's own service.
* :mod:`~borgersag.index.queue` — the huey task queue and its jobs.

May import: :mod:`borgersag.lookup` and everything below it. Imported by notify, the web layer
(the login hook) and the CLI (the worker).
"""
