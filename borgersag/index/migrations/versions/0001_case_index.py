"""The case index, the sources' refresh times and the notification outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """The first tables (see borgersag/index/schema.py)."""
    op.create_table(
        "index_subscriber",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cpr_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("cpr_sealed", sa.Text, nullable=False),
        sa.Column("subscribed_at", _TZ, nullable=False),
        sa.Column("enqueued_at", _TZ),
    )
    op.create_table(
        "index_case",
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("case_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("sagsnummer", sa.String(100), nullable=False),
        sa.Column("progress", sa.String(16), nullable=False),
        sa.Column("progress_date", sa.Date),
        sa.Column("status_text", sa.String(200)),
        sa.Column("kle", sa.String(20)),
        sa.Column("area", sa.String(200)),
        sa.Column("unit", sa.String(200)),
        sa.Column("opened", sa.Date),
        sa.Column("decided", sa.Date),
        sa.Column("closed", sa.Date),
        sa.Column("deadline", sa.Date),
        sa.Column("documents", sa.Text, nullable=False),
        sa.Column("systems", sa.Text, nullable=False),
        sa.Column("first_seen", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "case_id", name="index_case_pk"),
    )
    op.create_table(
        "index_source_refresh",
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("refreshed_at", _TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "source", name="index_source_refresh_pk"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
        sa.Column("subscriber_id", sa.Integer, nullable=False, index=True),
        sa.Column("case_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    """Drop them again."""
    for table in ("notification", "index_source_refresh", "index_case", "index_subscriber"):
        op.drop_table(table)
