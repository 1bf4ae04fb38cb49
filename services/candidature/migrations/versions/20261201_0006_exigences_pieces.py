"""pieces required (issue 8 item 4): a phase-1 GHT support's GHT criteria and capacity proof

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

One nullable JSONB column: the criteria of annex 4 of DNS/2024/123 as the support entered them (a
draft may hold them incomplete; the deposit checks them all). The pieces themselves live in the
`piece` table of the pieces slice.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidature", sa.Column("criteres_ght", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("candidature", "criteres_ght")
