"""webhooks and the event feed (issue 11, ADR 0026): subscriptions, their encrypted secrets, the events
as delivered, deliveries and their attempts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0016"
# On today's head; the integrator re-chains it.
down_revision = "0015"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_abonnement",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("types", JSONB(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("cree_par", sa.String(length=200), nullable=False),
        sa.Column("cree_le", TZ, nullable=False),
        sa.Column("actif", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("desactive_le", TZ, nullable=True),
        sa.Column("desactive_motif", sa.Text(), nullable=True),
        sa.Column("en_echec_depuis", TZ, nullable=True),
        sa.Column("supprime_le", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_abonnement")),
    )
    op.create_index(op.f("ix_webhook_abonnement_region"), "webhook_abonnement", ["region"])
    op.create_table(
        "webhook_secret",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("abonnement_id", sa.String(length=36), nullable=False),
        sa.Column("chiffre", sa.LargeBinary(), nullable=False),
        sa.Column("cree_le", TZ, nullable=False),
        sa.Column("expire_le", TZ, nullable=True),
        sa.ForeignKeyConstraint(["abonnement_id"], ["webhook_abonnement.id"],
                                name=op.f("fk_webhook_secret_abonnement_id_webhook_abonnement")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secret")),
    )
    op.create_index(op.f("ix_webhook_secret_abonnement_id"), "webhook_secret", ["abonnement_id"])
    op.create_table(
        "webhook_evenement",
        sa.Column("position", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("regions", ARRAY(sa.String(length=3)), nullable=False),
        sa.Column("horodatage", TZ, nullable=False),
        sa.Column("corps", sa.LargeBinary(), nullable=False),
        sa.Column("diffuse", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("recu_le", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("txid", sa.BigInteger(), server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
                  nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_webhook_evenement")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_evenement_event_id")),
    )
    op.create_index(op.f("ix_webhook_evenement_type"), "webhook_evenement", ["type"])
    op.create_index(op.f("ix_webhook_evenement_horodatage"), "webhook_evenement", ["horodatage"])
    op.create_index("ix_webhook_evenement_regions", "webhook_evenement", ["regions"], postgresql_using="gin")
    op.create_table(
        "webhook_livraison",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("abonnement_id", sa.String(length=36), nullable=False),
        sa.Column("evenement_position", sa.BigInteger(), nullable=False),
        sa.Column("origine", sa.String(length=10), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("tentatives", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("prochaine_le", TZ, nullable=False),
        sa.Column("cree_le", TZ, nullable=False),
        sa.Column("termine_le", TZ, nullable=True),
        sa.ForeignKeyConstraint(["abonnement_id"], ["webhook_abonnement.id"],
                                name=op.f("fk_webhook_livraison_abonnement_id_webhook_abonnement")),
        sa.ForeignKeyConstraint(["evenement_position"], ["webhook_evenement.position"],
                                name=op.f("fk_webhook_livraison_evenement_position_webhook_evenement")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_livraison")),
    )
    op.create_index("ix_webhook_livraison_dues", "webhook_livraison", ["prochaine_le", "abonnement_id"],
                    postgresql_where=sa.text("statut = 'en_attente'"))
    op.create_index("ix_webhook_livraison_abonnement", "webhook_livraison", ["abonnement_id", "cree_le"])
    op.create_table(
        "webhook_tentative",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("livraison_id", sa.String(length=36), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("debut_le", TZ, nullable=False),
        sa.Column("duree_ms", sa.Integer(), nullable=False),
        sa.Column("statut_http", sa.Integer(), nullable=True),
        sa.Column("erreur", sa.Text(), nullable=True),
        sa.Column("extrait", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["livraison_id"], ["webhook_livraison.id"],
                                name=op.f("fk_webhook_tentative_livraison_id_webhook_livraison")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_tentative")),
    )
    op.create_index(op.f("ix_webhook_tentative_livraison_id"), "webhook_tentative", ["livraison_id"])


def downgrade() -> None:
    for table in ("webhook_tentative", "webhook_livraison", "webhook_evenement", "webhook_secret",
                  "webhook_abonnement"):
        op.drop_table(table)
