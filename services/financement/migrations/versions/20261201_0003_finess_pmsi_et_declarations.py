"""pay once (review of issue 7): phase-1 amounts keyed on the FINESS PMSI; one current HospiConnect
declaration per (candidature, EJ, year)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

- `etablissement_connu` keeps the referentiel's `finess_pmsi` and `maille_phase1` (None until the
  referentiel publishes the establishment again).
- `perimetre_finance.finess_pmsi`: frozen at validation, the key of the EJ's amounts; existing rows
  get their EJ, which is what their lines' keys already say (revision 0002).
- `declaration_depenses`: only one declaration of a (candidature, EJ, year) names none (the others
  are corrections). If existing data has several (they were added up before), the upgrade stops and
  lists them: which one is the year's declaration is an operator's decision, never a guess.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _refuser_declarations_multiples() -> None:
    doublons = op.get_bind().execute(sa.text(
        "SELECT candidature_id, finess_ej, annee, string_agg(declaration_id, ', ' ORDER BY declare_le)"
        " FROM declaration_depenses WHERE remplace IS NULL GROUP BY candidature_id, finess_ej, annee"
        " HAVING count(*) > 1 ORDER BY candidature_id, finess_ej, annee")).all()
    if doublons:
        liste = "; ".join(f"{c} {ej} {a}: {ids}" for c, ej, a, ids in doublons[:20])
        raise RuntimeError(f"{len(doublons)} année(s) avec plusieurs déclarations de dépenses courantes : {liste}."
                           " Une seule compte désormais : à régulariser (une correction nomme celle qu'elle"
                           " remplace) avant de migrer.")


def upgrade() -> None:
    op.add_column("etablissement_connu", sa.Column("finess_pmsi", sa.String(length=9), nullable=True))
    op.add_column("etablissement_connu", sa.Column("maille_phase1", sa.String(length=9), nullable=True))

    op.add_column("perimetre_finance", sa.Column("finess_pmsi", sa.String(length=9), nullable=True))
    op.execute("ALTER TABLE perimetre_finance DISABLE TRIGGER perimetre_finance_immuable")
    op.execute("UPDATE perimetre_finance SET finess_pmsi = finess_ej")
    op.execute("ALTER TABLE perimetre_finance ENABLE TRIGGER perimetre_finance_immuable")
    op.alter_column("perimetre_finance", "finess_pmsi", nullable=False)

    _refuser_declarations_multiples()
    op.create_index("uq_declaration_depenses_premiere", "declaration_depenses",
                    ["candidature_id", "finess_ej", "annee"], unique=True,
                    postgresql_where=sa.text("remplace IS NULL"))


def downgrade() -> None:
    op.drop_index("uq_declaration_depenses_premiere", table_name="declaration_depenses",
                  postgresql_where=sa.text("remplace IS NULL"))
    op.drop_column("perimetre_finance", "finess_pmsi")
    op.drop_column("etablissement_connu", "maille_phase1")
    op.drop_column("etablissement_connu", "finess_pmsi")
