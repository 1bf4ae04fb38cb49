"""corrected AAP decisions (issue 9, ADR 0014): the selections and attainment decisions as financement
received them, so that a correction is checked against the current one and its difference computed;
the envelope ledger gets the `reprise` entry (a paid amount taken back lowers `consomme`)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Existing selected projects get their selection as their first decision (decision id and amount frozen
on `projet_aap`), existing attainment decisions likewise: a later correction names them. First
non-retentions were not stored before: a correction naming one waits, then is parked.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import rendre_immuables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NATURES = ("allocation", "transfert_entrant", "transfert_sortant", "engagement", "desengagement", "paiement")


def _natures(natures: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_ecriture_enveloppe_nature_connue"), "ecriture_enveloppe", type_="check")
    op.create_check_constraint(op.f("ck_ecriture_enveloppe_nature_connue"), "ecriture_enveloppe",
                               "nature IN ('" + "', '".join(natures) + "')")


def upgrade() -> None:
    op.create_table(
        "decision_projet_aap",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("projet_id", sa.String(length=36), nullable=False),
        sa.Column("objet", sa.String(length=20), nullable=False),
        sa.Column("retenu", sa.Boolean(), nullable=False),
        sa.Column("montant_accorde", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("calcul", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.Column("decide_par", sa.String(length=200), nullable=False),
        sa.Column("decide_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["remplace"], ["decision_projet_aap.decision_id"],
                                name=op.f("fk_decision_projet_aap_remplace_decision_projet_aap")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_projet_aap")),
        sa.UniqueConstraint("remplace", name=op.f("uq_decision_projet_aap_remplace")),
    )
    op.create_index(op.f("ix_decision_projet_aap_projet_id"), "decision_projet_aap", ["projet_id"])
    op.create_index("uq_decision_projet_aap_premiere", "decision_projet_aap", ["projet_id", "objet"],
                    unique=True, postgresql_where=sa.text("remplace IS NULL"))
    op.execute("INSERT INTO decision_projet_aap (decision_id, projet_id, objet, retenu, montant_accorde, calcul,"
               " remplace, decide_par, decide_le) SELECT decision_id, projet_id, 'selection', true,"
               " montant_accorde, calcul, NULL, decide_par, decide_le FROM projet_aap")
    op.execute("INSERT INTO decision_projet_aap (decision_id, projet_id, objet, retenu, montant_accorde, calcul,"
               " remplace, decide_par, decide_le) SELECT decision_id, projet_id, 'atteinte', atteint, NULL,"
               " NULL, NULL, decide_par, decide_le FROM atteinte_projet_aap")
    rendre_immuables(op, "decision_projet_aap")
    _natures((*_NATURES, "reprise"))


def downgrade() -> None:
    _natures(_NATURES)
    op.execute("DROP TRIGGER IF EXISTS decision_projet_aap_immuable ON decision_projet_aap")
    op.execute("DROP TRIGGER IF EXISTS decision_projet_aap_immuable_truncate ON decision_projet_aap")
    op.drop_index("uq_decision_projet_aap_premiere", table_name="decision_projet_aap",
                  postgresql_where=sa.text("remplace IS NULL"))
    op.drop_index(op.f("ix_decision_projet_aap_projet_id"), table_name="decision_projet_aap")
    op.drop_table("decision_projet_aap")
