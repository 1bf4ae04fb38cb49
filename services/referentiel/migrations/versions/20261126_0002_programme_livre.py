"""programme versions shipped with the code (phase1 2024.1, hospiconnect 2026.1, aap and
enveloppes_aap 2026.1)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hopen_referentiel.programme.service import documents_livres, empreinte

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Pinned: the (document, version) pairs this revision seeds, each read from its own versioned file in
# hopen_common.programme (a missing one fails the upgrade). A later version file shipped with the code
# is seeded by a later revision, never by a silent change of this one.
VERSIONS = (("phase1", "2024.1"), ("hospiconnect", "2026.1"), ("aap", "2026.1"), ("enveloppes_aap", "2026.1"))


def upgrade() -> None:
    table = sa.table(
        "version_programme", sa.column("document"), sa.column("version"), sa.column("contenu", sa.JSON),
        sa.column("empreinte"), sa.column("publie_par"), sa.column("publie_le"), sa.column("motivation"),
        sa.column("source"),
    )
    maintenant = datetime.now(UTC)
    lignes = [
        {"document": d, "version": v, "contenu": json.loads(json.dumps(c)), "empreinte": empreinte(c),
         "publie_par": "migration 0002", "publie_le": maintenant,
         "motivation": "version livree avec le code (fichier de donnees)", "source": s}
        for d, v, c, s in documents_livres(VERSIONS)
    ]
    op.bulk_insert(table, lignes)


def downgrade() -> None:
    op.execute("DELETE FROM version_programme WHERE publie_par = 'migration 0002'")
