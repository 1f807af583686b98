"""Alembic's environment for the case index: run on the connection the caller gives
(:func:`borgersag.index.schema.upgrade`), never from an ``alembic.ini``."""

from alembic import context

from borgersag.index.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
