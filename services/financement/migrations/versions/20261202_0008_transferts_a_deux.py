"""DNS envelope transfers by two persons (issue 10, ADR 0025): a transfer is first a proposal
(`proposition_transfert`), confirmed or rejected by another DNS person; the ledger's transfer entries
carry the proposal, its proposer and its confirmer.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Transfers written before this revision were decided by one person: their entries keep NULL proposer
and confirmer (ecrit_par says who decided).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for colonne, longueur in (("proposition_id", 36), ("propose_par", 200), ("confirme_par", 200)):
        op.add_column("ecriture_enveloppe", sa.Column(colonne, sa.String(length=longueur), nullable=True))
    op.create_table(
        "proposition_transfert",
        sa.Column("proposition_id", sa.String(length=36), nullable=False),
        sa.Column("source_dispositif", sa.String(length=20), nullable=False),
        sa.Column("source_region", sa.String(length=3), nullable=False),
        sa.Column("destination_dispositif", sa.String(length=20), nullable=False),
        sa.Column("destination_region", sa.String(length=3), nullable=False),
        sa.Column("montant", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("motif", sa.String(length=500), nullable=False),
        sa.Column("statut", sa.String(length=12), nullable=False),
        sa.Column("proposee_par", sa.String(length=200), nullable=False),
        sa.Column("emetteur_proposeur", sa.String(length=500), nullable=False),
        sa.Column("proposee_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disponibles", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("traitee_par", sa.String(length=200), nullable=True),
        sa.Column("emetteur_traitant", sa.String(length=500), nullable=True),
        sa.Column("traitee_le", sa.DateTime(timezone=True), nullable=True),
        sa.Column("motivation", sa.String(length=5000), nullable=True),
        sa.Column("transfert_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("statut IN ('en_attente', 'confirmee', 'rejetee')",
                           name=op.f("ck_proposition_transfert_statut_connu")),
        sa.CheckConstraint("montant > 0", name=op.f("ck_proposition_transfert_montant_positif")),
        sa.PrimaryKeyConstraint("proposition_id", name=op.f("pk_proposition_transfert")),
        sa.UniqueConstraint("transfert_id", name=op.f("uq_proposition_transfert_transfert_id")),
    )
    op.create_index(op.f("ix_proposition_transfert_statut"), "proposition_transfert", ["statut"])
    op.create_index("uq_proposition_transfert_en_attente", "proposition_transfert",
                    ["source_dispositif", "source_region", "destination_dispositif", "destination_region"],
                    unique=True, postgresql_where=sa.text("statut = 'en_attente'"))
    # A proposal is treated once: a waiting one may become confirmed or rejected, nothing else changes,
    # and nothing is deleted, whatever the code does.
    op.execute("""
        CREATE OR REPLACE FUNCTION hopen_proposition_transfert_traitee_une_fois() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR OLD.statut <> 'en_attente' OR NEW.statut = 'en_attente'
               OR (NEW.proposition_id, NEW.source_dispositif, NEW.source_region, NEW.destination_dispositif,
                   NEW.destination_region, NEW.montant, NEW.motif, NEW.proposee_par, NEW.emetteur_proposeur,
                   NEW.proposee_le)
                  IS DISTINCT FROM
                  (OLD.proposition_id, OLD.source_dispositif, OLD.source_region, OLD.destination_dispositif,
                   OLD.destination_region, OLD.montant, OLD.motif, OLD.proposee_par, OLD.emetteur_proposeur,
                   OLD.proposee_le) THEN
                RAISE EXCEPTION 'proposition_transfert : une proposition est traitée une fois, jamais modifiée'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER proposition_transfert_traitee_une_fois BEFORE UPDATE OR DELETE"
               " ON proposition_transfert FOR EACH ROW"
               " EXECUTE FUNCTION hopen_proposition_transfert_traitee_une_fois()")
    op.execute("CREATE TRIGGER proposition_transfert_truncate BEFORE TRUNCATE ON proposition_transfert"
               " FOR EACH STATEMENT EXECUTE FUNCTION hopen_ligne_immuable()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS proposition_transfert_truncate ON proposition_transfert")
    op.execute("DROP TRIGGER IF EXISTS proposition_transfert_traitee_une_fois ON proposition_transfert")
    op.execute("DROP FUNCTION IF EXISTS hopen_proposition_transfert_traitee_une_fois()")
    op.drop_index("uq_proposition_transfert_en_attente", table_name="proposition_transfert",
                  postgresql_where=sa.text("statut = 'en_attente'"))
    op.drop_index(op.f("ix_proposition_transfert_statut"), table_name="proposition_transfert")
    op.drop_table("proposition_transfert")
    for colonne in ("confirme_par", "propose_par", "proposition_id"):
        op.drop_column("ecriture_enveloppe", colonne)
