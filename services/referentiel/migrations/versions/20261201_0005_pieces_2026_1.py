"""programme pieces 2026.1 shipped with the code: the pieces each dispositif requires (issue 8, ADR 0012)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hopen_referentiel.programme.service import documents_livres, empreinte

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Pinned like 0002 and 0003: a later pieces file is seeded by a later revision.
VERSIONS = (("pieces", "2026.1"),)
PUBLIE_PAR = "migration 0005"


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
         "motivation": "version livree avec le code : pieces requises par dispositif (ADR 0012)", "source": s}
        for d, v, c, s in documents_livres(VERSIONS)
    ]
    op.bulk_insert(table, lignes)


def downgrade() -> None:
    op.execute(f"DELETE FROM version_programme WHERE publie_par = '{PUBLIE_PAR}'")
