"""notified lines carry financement's business key and version: a corrected line replaces its
previous version in every total

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("montant_notifie", sa.Column("cle_metier", sa.String(length=120), nullable=True))
    op.add_column("montant_notifie", sa.Column("version", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_montant_notifie_cle_metier"), "montant_notifie", ["cle_metier"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_montant_notifie_cle_metier"), table_name="montant_notifie")
    op.drop_column("montant_notifie", "version")
    op.drop_column("montant_notifie", "cle_metier")
