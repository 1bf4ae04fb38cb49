"""two-person rule (issue 10, ADR 0023): proposals, and both persons on every decision and lot

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
# Chained on main's head; the integrator re-chains it after habilitations' 0010 and audit's 0011.
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("decision", "decision_projet"):
        op.add_column(table, sa.Column("proposee_par", sa.String(length=200), nullable=True))
        op.add_column(table, sa.Column("confirmee_par", sa.String(length=200), nullable=True))
    op.add_column("lot", sa.Column("confirmee_par", sa.String(length=200), nullable=True))
    op.create_table(
        "proposition",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("cible", sa.String(length=200), nullable=False),
        sa.Column("parametres", JSONB(), nullable=False),
        sa.Column("demande", JSONB(), nullable=False),
        sa.Column("montants", JSONB(), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("proposee_par", sa.String(length=200), nullable=False),
        sa.Column("emetteur_proposeur", sa.String(length=500), nullable=False),
        sa.Column("proposee_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("traitee_par", sa.String(length=200), nullable=True),
        sa.Column("traitee_le", sa.DateTime(timezone=True), nullable=True),
        sa.Column("motivation_traitement", sa.Text(), nullable=True),
        sa.Column("decision_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposition")),
    )
    op.create_index(op.f("ix_proposition_region"), "proposition", ["region"])
    op.create_index(op.f("ix_proposition_statut"), "proposition", ["statut"])
    op.create_index("uq_proposition_en_attente", "proposition", ["cible"], unique=True,
                    postgresql_where=sa.text("statut = 'en_attente'"))
    # A proposal is treated once: en_attente -> confirmee | rejetee, its content never edited.
    op.execute("""
        CREATE FUNCTION proposition_traitee_une_fois() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR OLD.statut <> 'en_attente'
               OR (NEW.id, NEW.region, NEW.type, NEW.cible, NEW.parametres, NEW.demande, NEW.montants,
                   NEW.proposee_par, NEW.emetteur_proposeur, NEW.proposee_le)
                  IS DISTINCT FROM (OLD.id, OLD.region, OLD.type, OLD.cible, OLD.parametres, OLD.demande,
                   OLD.montants, OLD.proposee_par, OLD.emetteur_proposeur, OLD.proposee_le) THEN
                RAISE EXCEPTION 'proposition : traitée une fois, jamais modifiée'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER proposition_traitee_une_fois BEFORE UPDATE OR DELETE ON proposition"
               " FOR EACH ROW EXECUTE FUNCTION proposition_traitee_une_fois()")


def downgrade() -> None:
    op.drop_table("proposition")
    op.execute("DROP FUNCTION proposition_traitee_une_fois()")
    op.drop_column("lot", "confirmee_par")
    for table in ("decision", "decision_projet"):
        op.drop_column(table, "confirmee_par")
        op.drop_column(table, "proposee_par")
