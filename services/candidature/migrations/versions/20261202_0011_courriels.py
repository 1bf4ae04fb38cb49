"""mail to establishments (issue 9 item 6): their contact address and the outbox of mails

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.courriel import creer_table_courriel

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_etablissement",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("courriel", sa.String(length=320), nullable=False),
        sa.Column("maj_par", sa.String(length=200), nullable=False),
        sa.Column("maj_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_contact_etablissement")),
    )
    creer_table_courriel(op)


def downgrade() -> None:
    op.drop_table("courriel")
    op.drop_table("contact_etablissement")
