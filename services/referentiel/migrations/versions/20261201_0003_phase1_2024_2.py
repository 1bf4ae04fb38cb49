"""programme phase1 2024.2 shipped with the code (SUN-ES reading of P1.O7/P1.O8 recorded, ADR 0007)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hopen_referentiel.programme.service import documents_livres, empreinte

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Pinned like 0002: phase1 2024.1 stays as 0002 seeded it (a published version is never edited);
# 2024.2 is a new version, current from this revision on.
VERSIONS = (("phase1", "2024.2"),)
PUBLIE_PAR = "migration 0003"


def upgrade() -> None:
    table = sa.table(
        "version_programme", sa.column("document"), sa.column("version"), sa.column("contenu", sa.JSON),
        sa.column("empreinte"), sa.column("publie_par"), sa.column("publie_le"), sa.column("motivation"),
        sa.column("source"),
    )
    maintenant = datetime.now(UTC)
    lignes = [
        {"document": d, "version": v, "contenu": json.loads(json.dumps(c)), "empreinte": empreinte(c),
         "publie_par": PUBLIE_PAR, "publie_le": maintenant,
         "motivation": "version livree avec le code : lecture SUN-ES par indicateur, P1.O7/P1.O8 sans"
                       " domaine SUN-ES (ADR 0007)", "source": s}
        for d, v, c, s in documents_livres(VERSIONS)
    ]
    op.bulk_insert(table, lignes)


def downgrade() -> None:
    op.execute(f"DELETE FROM version_programme WHERE publie_par = '{PUBLIE_PAR}'")
