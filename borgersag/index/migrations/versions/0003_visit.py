"""When a citizen last saw Mine sager ("Nyt siden dit sidste besøg").

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """index_visit (see borgersag/index/schema.py)."""
    op.create_table(
        "index_visit",
        sa.Column("cpr_hash", sa.String(64), primary_key=True),
        sa.Column("seen_at", _TZ),
        sa.Column("since", _TZ),
        sa.Column("updated_at", _TZ, nullable=False),
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("index_visit")
