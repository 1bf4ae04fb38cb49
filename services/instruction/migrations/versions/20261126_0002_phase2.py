"""phase 2: HospiConnect evidence and yearly decisions, AAP projects and their decisions, the local
copies of the referentiel (AC 2024, staff) and of financement's regional envelopes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import rendre_immuables
from hopen_common.programme.aap import charger_enveloppes_aap

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Pinned: this revision always seeds what envelopes 2026.1 say (as financement's 0001 does); a later
# version of the envelopes reaches the copy through financement's events, or a later revision.
VERSION_ENVELOPPES = "2026.1"


def upgrade() -> None:
    op.create_table('engagement_connu',
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('projet_id', sa.String(length=36), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('montant', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ecriture_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_engagement_connu'))
    )
    op.create_table('enveloppe_connue',
    sa.Column('dispositif', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('alloue', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('engage', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('consomme', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('disponible', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('derniere_ecriture', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('maj_le', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dispositif', 'region', name=op.f('pk_enveloppe_connue'))
    )
    op.create_table('etablissement_connu',
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('raison_sociale', sa.String(length=300), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('secteur', sa.String(length=30), nullable=False),
    sa.Column('niveau', sa.String(length=2), nullable=False),
    sa.Column('ferme', sa.Boolean(), nullable=False),
    sa.Column('effectifs', sa.Integer(), nullable=True),
    sa.Column('finess_pmsi_phase2', sa.String(length=9), nullable=True),
    sa.Column('activite_combinee_2024', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('eligible_aap', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('finess', name=op.f('pk_etablissement_connu'))
    )
    op.create_table('projet',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('raison_sociale', sa.String(length=300), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('theme', sa.String(length=50), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('objectifs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('participants', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('perimetre', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('equipe', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('lettres_partenaires', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sans_versement_usage', sa.Boolean(), nullable=True),
    sa.Column('depenses_prevues', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('deposee_le', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projet'))
    )
    op.create_index(op.f('ix_projet_finess'), 'projet', ['finess'], unique=False)
    op.create_index(op.f('ix_projet_region'), 'projet', ['region'], unique=False)
    op.create_index('uq_decision_remplace', 'decision', ['remplace'], unique=True, postgresql_where=sa.text('remplace IS NOT NULL'))
    op.create_table('decision_projet',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('projet_id', sa.String(length=36), nullable=False),
    sa.Column('objet', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('montant_accorde', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('decide_par', sa.String(length=200), nullable=False),
    sa.Column('decide_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('elements', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('remplace', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['projet_id'], ['projet.id'], name=op.f('fk_decision_projet_projet_id_projet')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_projet')),
    sa.UniqueConstraint('remplace', name=op.f('uq_decision_projet_remplace'))
    )
    op.create_index(op.f('ix_decision_projet_projet_id'), 'decision_projet', ['projet_id'], unique=False)
    op.create_index('uq_decision_projet_initiale', 'decision_projet', ['projet_id', 'objet'], unique=True, postgresql_where=sa.text('remplace IS NULL'))
    op.create_table('depense_prevue_projet',
    sa.Column('projet_id', sa.String(length=36), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('montant', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['projet_id'], ['projet.id'], name=op.f('fk_depense_prevue_projet_projet_id_projet')),
    sa.PrimaryKeyConstraint('projet_id', 'annee', name=op.f('pk_depense_prevue_projet'))
    )
    op.create_table('preuve_hospiconnect_recue',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('objectif', sa.String(length=10), nullable=False),
    sa.Column('nature', sa.String(length=10), nullable=False),
    sa.Column('document', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('numerateur', sa.BigInteger(), nullable=True),
    sa.Column('denominateur', sa.BigInteger(), nullable=True),
    sa.Column('depose_par', sa.String(length=200), nullable=False),
    sa.Column('depose_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_preuve_hospiconnect_recue_dossier_id_dossier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preuve_hospiconnect_recue'))
    )
    op.create_index(op.f('ix_preuve_hospiconnect_recue_dossier_id'), 'preuve_hospiconnect_recue', ['dossier_id'], unique=False)
    # Decisions and evidence are corrected by new rows, never edited.
    rendre_immuables(op, "decision_projet", "preuve_hospiconnect_recue")
    # The envelope copy starts from the published allocations (what financement's migration seeds as
    # its ledger's first entries, which it does not publish); its Enveloppe* events take over.
    compte = sa.table("enveloppe_connue", sa.column("dispositif"), sa.column("region"), sa.column("alloue"),
                      sa.column("engage"), sa.column("consomme"), sa.column("disponible"),
                      sa.column("derniere_ecriture"), sa.column("source"), sa.column("maj_le"))
    enveloppes = charger_enveloppes_aap(VERSION_ENVELOPPES)
    op.bulk_insert(compte, [
        {"dispositif": enveloppes.dispositif, "region": r.code, "alloue": r.montant, "engage": 0, "consomme": 0,
         "disponible": r.montant, "derniere_ecriture": 0, "source": f"enveloppes_aap_v{enveloppes.version}",
         "maj_le": datetime.now(UTC)} for r in enveloppes.regions])


def downgrade() -> None:
    op.drop_index(op.f('ix_preuve_hospiconnect_recue_dossier_id'), table_name='preuve_hospiconnect_recue')
    op.drop_table('preuve_hospiconnect_recue')
    op.drop_table('depense_prevue_projet')
    op.drop_index('uq_decision_projet_initiale', table_name='decision_projet', postgresql_where=sa.text('remplace IS NULL'))
    op.drop_index(op.f('ix_decision_projet_projet_id'), table_name='decision_projet')
    op.drop_table('decision_projet')
    op.drop_index('uq_decision_remplace', table_name='decision', postgresql_where=sa.text('remplace IS NOT NULL'))
    op.drop_index(op.f('ix_projet_region'), table_name='projet')
    op.drop_index(op.f('ix_projet_finess'), table_name='projet')
    op.drop_table('projet')
    op.drop_table('etablissement_connu')
    op.drop_table('enveloppe_connue')
    op.drop_table('engagement_connu')
