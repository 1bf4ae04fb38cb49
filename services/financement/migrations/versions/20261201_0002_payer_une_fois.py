"""pay once: every amount line under a business key without the candidature id, versions chained;
objective decisions corrected by new rows; dead letters carry why they were parked

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

- `ligne_financement.cle_metier` (notifications/cles.py): phase 1 (EJ, objective, amorcage|solde),
  HospiConnect (EJ, year), AAP (project, tranche); unique with `version`, and a version n > 1 must
  name version n - 1 of the same key (composite foreign key + check). Existing lines get their key
  from what they already store; if two of them share a key and a version (an amount paid twice
  before this revision), the upgrade stops and lists them: an operator decides, nothing is guessed.
- `objectif_decide`: keyed by its decision; a correction names the decision it replaces.
The two tables are immutable (triggers): their triggers are disabled for the backfill only.
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.db.migrations import ajouter_motif_lettres_mortes, retirer_motif_lettres_mortes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CLE_METIER = """
    CASE dispositif
        WHEN 'phase1' THEN 'phase1/' || finess_ej || '/' || objectif || '/'
                           || CASE nature WHEN 'amorcage' THEN 'amorcage' ELSE 'solde' END
        WHEN 'hospiconnect' THEN 'hospiconnect/' || finess_ej || '/' || annee::text
        ELSE 'aap/' || candidature_id || '/' || nature
    END
"""


def _sans_trigger(table: str, sql: str) -> None:
    op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immuable")
    op.execute(sql)
    op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_immuable")


def _refuser_doublons() -> None:
    doublons = op.get_bind().execute(sa.text(
        "SELECT cle_metier, version, string_agg(id::text, ', ' ORDER BY id) FROM ligne_financement"
        " GROUP BY cle_metier, version HAVING count(*) > 1 ORDER BY cle_metier, version")).all()
    if doublons:
        liste = "; ".join(f"{cle} v{version}: lignes {ids}" for cle, version, ids in doublons[:20])
        raise RuntimeError(f"{len(doublons)} montant(s) payé(s) deux fois avant cette révision : {liste}."
                           " À régulariser par un opérateur avant de migrer.")


def upgrade() -> None:
    ajouter_motif_lettres_mortes(op)

    op.add_column("ligne_financement", sa.Column("cle_metier", sa.String(length=120), nullable=True))
    op.add_column("ligne_financement", sa.Column("version_precedente", sa.Integer(), nullable=True))
    _sans_trigger("ligne_financement", f"""
        UPDATE ligne_financement SET cle_metier = {CLE_METIER},
               version_precedente = CASE WHEN version > 1 THEN version - 1 END""")
    _refuser_doublons()
    op.alter_column("ligne_financement", "cle_metier", nullable=False)
    op.drop_constraint("uq_ligne_financement_cle_metier", "ligne_financement", type_="unique")
    op.create_unique_constraint("uq_ligne_financement_cle_metier", "ligne_financement",
                                ["cle_metier", "version"])
    op.create_foreign_key("fk_ligne_financement_version_precedente", "ligne_financement", "ligne_financement",
                          ["cle_metier", "version_precedente"], ["cle_metier", "version"])
    op.create_check_constraint(
        op.f("ck_ligne_financement_chaine_des_versions"), "ligne_financement",
        "(version = 1 AND version_precedente IS NULL) OR (version > 1 AND version_precedente = version - 1)")

    op.drop_constraint("pk_objectif_decide", "objectif_decide", type_="primary")
    op.create_primary_key("pk_objectif_decide", "objectif_decide", ["decision_id"])
    op.add_column("objectif_decide", sa.Column("remplace", sa.String(length=36), nullable=True))
    op.create_foreign_key(op.f("fk_objectif_decide_remplace_objectif_decide"), "objectif_decide",
                          "objectif_decide", ["remplace"], ["decision_id"])
    op.create_unique_constraint(op.f("uq_objectif_decide_remplace"), "objectif_decide", ["remplace"])
    op.create_index("uq_objectif_decide_premiere_decision", "objectif_decide",
                    ["candidature_id", "finess_ej", "objectif"], unique=True,
                    postgresql_where=sa.text("remplace IS NULL"))


def downgrade() -> None:
    # Corrections of objective decisions have no place in revision 0001: refuse rather than lose them.
    corrections = op.get_bind().scalar(sa.text("SELECT count(*) FROM objectif_decide WHERE remplace IS NOT NULL"))
    if corrections:
        raise RuntimeError(f"{corrections} décision(s) d'objectif corrigée(s) : retour à 0001 impossible")
    op.drop_index("uq_objectif_decide_premiere_decision", table_name="objectif_decide",
                  postgresql_where=sa.text("remplace IS NULL"))
    op.drop_constraint(op.f("uq_objectif_decide_remplace"), "objectif_decide", type_="unique")
    op.drop_constraint(op.f("fk_objectif_decide_remplace_objectif_decide"), "objectif_decide",
                       type_="foreignkey")
    op.drop_column("objectif_decide", "remplace")
    op.drop_constraint("pk_objectif_decide", "objectif_decide", type_="primary")
    op.create_primary_key("pk_objectif_decide", "objectif_decide", ["candidature_id", "finess_ej", "objectif"])

    op.drop_constraint(op.f("ck_ligne_financement_chaine_des_versions"), "ligne_financement", type_="check")
    op.drop_constraint("fk_ligne_financement_version_precedente", "ligne_financement", type_="foreignkey")
    op.drop_constraint("uq_ligne_financement_cle_metier", "ligne_financement", type_="unique")
    op.create_unique_constraint("uq_ligne_financement_cle_metier", "ligne_financement",
                                ["candidature_id", "finess_ej", "objectif", "nature", "version"])
    op.drop_column("ligne_financement", "version_precedente")
    op.drop_column("ligne_financement", "cle_metier")

    retirer_motif_lettres_mortes(op)
