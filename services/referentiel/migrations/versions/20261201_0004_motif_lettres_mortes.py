"""common tables, revision 2: dead letters carry why they were parked (motif), for operators to filter
and count (a refused second payment is `paiement-en-double`)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

from hopen_common.db.migrations import ajouter_motif_lettres_mortes, retirer_motif_lettres_mortes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ajouter_motif_lettres_mortes(op)


def downgrade() -> None:
    retirer_motif_lettres_mortes(op)
