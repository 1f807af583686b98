"""Telling citizens: e-mail, NemSMS and Digital Post senders reading the notification
outbox the case index writes (see docs/notifications.md).

A layer above :mod:`borgersag.index` and below :mod:`borgersag.web`: it reads the outbox
and the subscribers through the index's tables, and the web layer shows its settings and
history to the citizen and the operators.

* :mod:`~borgersag.notify.section` — ``[notify]`` and its channel tables.
* :mod:`~borgersag.notify.texts` — the one neutral text the messages say.
* :mod:`~borgersag.notify.senders` — the sender interface and the three senders.
* :mod:`~borgersag.notify.store` — the citizens' choices and the messages sent.
* :mod:`~borgersag.notify.delivery` — outbox rows to messages, sent exactly once.
* :mod:`~borgersag.notify.service` — the delivery job on the index's queue.

May import: :mod:`borgersag.index` and everything below it. Imported by the web layer
(the settings and operations pages) and the CLI (the worker).
"""
