"""Rights of the persons known to the service, from the referentiel's habilitations (issue 10, ADR 0022)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from alembic import op

from hopen_common.db.migrations import creer_habilitations_connues, supprimer_habilitations_connues

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    creer_habilitations_connues(op)


def downgrade() -> None:
    supprimer_habilitations_connues(op)
