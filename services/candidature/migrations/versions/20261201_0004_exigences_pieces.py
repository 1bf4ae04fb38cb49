"""pieces required (issue 8 item 4): a phase-1 GHT support's GHT criteria and capacity proof

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

One nullable JSONB column: the criteria of annex 4 of DNS/2024/123 as the support entered them (a
draft may hold them incomplete; the deposit checks them all). The pieces themselves live in the
`piece` table of the pieces slice (branch i8-pieces): its migration and this one both follow 0003,
the merge chains one after the other.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidature", sa.Column("criteres_ght", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("candidature", "criteres_ght")
