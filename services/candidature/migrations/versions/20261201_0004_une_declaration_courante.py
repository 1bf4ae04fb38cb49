"""HospiConnect: one current declaration of eligible expenses per (candidature, EJ, year)
(ADR 0010: declarations never add up)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

If existing data has several first declarations of one (candidature, EJ, year) (they were added up
before), the upgrade stops and lists them: which one is the year's declaration is the
establishment's to say, never a guess.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    doublons = op.get_bind().execute(sa.text(
        "SELECT candidature_id, finess_ej, annee, string_agg(id, ', ' ORDER BY declare_le)"
        " FROM declaration_depenses WHERE remplace IS NULL GROUP BY candidature_id, finess_ej, annee"
        " HAVING count(*) > 1 ORDER BY candidature_id, finess_ej, annee")).all()
    if doublons:
        liste = "; ".join(f"{c} {ej} {a}: {ids}" for c, ej, a, ids in doublons[:20])
        raise RuntimeError(f"{len(doublons)} année(s) avec plusieurs déclarations courantes : {liste}."
                           " À régulariser (une correction nomme celle qu'elle remplace) avant de migrer.")
    op.create_index("uq_declaration_depenses_premiere", "declaration_depenses",
                    ["candidature_id", "finess_ej", "annee"], unique=True,
                    postgresql_where=sa.text("remplace IS NULL"))


def downgrade() -> None:
    op.drop_index("uq_declaration_depenses_premiere", table_name="declaration_depenses",
                  postgresql_where=sa.text("remplace IS NULL"))
