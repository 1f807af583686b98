"""The citizens' channel choices and the messages sent (borgersag.notify).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """notify_contact and notify_message (see borgersag/index/schema.py)."""
    op.create_table(
        "notify_contact",
        sa.Column("subscriber_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("email_sealed", sa.Text),
        sa.Column("phone_sealed", sa.Text),
        sa.Column("failures_seen_at", _TZ),
        sa.Column("updated_at", _TZ, nullable=False),
    )
    op.create_table(
        "notify_message",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subscriber_id", sa.Integer, nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("notifications", sa.Text, nullable=False),
        sa.Column("cases", sa.Text, nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("sent_at", _TZ),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("notify_message")
    op.drop_table("notify_contact")
