"""The local copy of the referentiel's establishments keeps its snapshot's time: an older snapshot
arriving after a newer one changes nothing (hopen_common.db.copie_locale, ADR 0028)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from alembic import op

from hopen_common.db.migrations import deversionner_copie_locale, versionner_copie_locale

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    versionner_copie_locale(op, "etablissement_connu")


def downgrade() -> None:
    deversionner_copie_locale(op, "etablissement_connu")
