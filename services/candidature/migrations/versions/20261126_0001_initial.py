"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Explicit DDL (nothing is deployed yet: regenerated with phase 2, HospiConnect and AAP tables).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import creer_tables_communes, rendre_immuables, supprimer_tables_communes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('candidature',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dispositif', sa.String(length=20), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('objectifs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('perimetre', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('cree_par', sa.String(length=200), nullable=False),
    sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deposee_par', sa.String(length=200), nullable=True),
    sa.Column('deposee_le', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidature'))
    )
    op.create_index(op.f('ix_candidature_finess'), 'candidature', ['finess'], unique=False)
    op.create_index(op.f('ix_candidature_region'), 'candidature', ['region'], unique=False)
    op.create_index('uq_candidature_hospiconnect', 'candidature', ['finess'], unique=True, postgresql_where=sa.text("dispositif = 'hospiconnect'"))
    op.create_table('etablissement_connu',
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('raison_sociale', sa.String(length=300), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('secteur', sa.String(length=30), nullable=False),
    sa.Column('niveau', sa.String(length=2), nullable=False),
    sa.Column('ght_code', sa.String(length=20), nullable=True),
    sa.Column('ght_role', sa.String(length=1), nullable=True),
    sa.Column('finess_pmsi', sa.String(length=9), nullable=False),
    sa.Column('activite_combinee', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('eligible_phase1', sa.Boolean(), nullable=False),
    sa.Column('maille_phase1', sa.String(length=9), nullable=True),
    sa.Column('domaines_sun_es', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('ferme', sa.Boolean(), nullable=False),
    sa.Column('effectifs', sa.Integer(), nullable=True),
    sa.Column('finess_pmsi_phase2', sa.String(length=9), nullable=True),
    sa.Column('activite_combinee_2024', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('eligible_hospiconnect', sa.Boolean(), nullable=True),
    sa.Column('maille_hospiconnect', sa.String(length=9), nullable=True),
    sa.Column('eligible_aap', sa.Boolean(), nullable=True),
    sa.Column('maille_aap', sa.String(length=9), nullable=True),
    sa.Column('mis_a_jour_le', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('finess', name=op.f('pk_etablissement_connu'))
    )
    op.create_index(op.f('ix_etablissement_connu_finess_ej'), 'etablissement_connu', ['finess_ej'], unique=False)
    op.create_index(op.f('ix_etablissement_connu_finess_pmsi_phase2'), 'etablissement_connu', ['finess_pmsi_phase2'], unique=False)
    op.create_index(op.f('ix_etablissement_connu_maille_hospiconnect'), 'etablissement_connu', ['maille_hospiconnect'], unique=False)
    op.create_table('hospiconnect_valide',
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('candidature_id', sa.String(length=36), nullable=False),
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('valide_le', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('finess_ej', 'candidature_id', name=op.f('pk_hospiconnect_valide'))
    )
    op.create_table('projet_aap',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('theme', sa.String(length=50), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('objectifs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('participants', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('perimetre', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('equipe', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('lettres_partenaires', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sans_versement_usage', sa.Boolean(), nullable=True),
    sa.Column('cree_par', sa.String(length=200), nullable=False),
    sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deposee_par', sa.String(length=200), nullable=True),
    sa.Column('deposee_le', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projet_aap'))
    )
    op.create_index(op.f('ix_projet_aap_finess'), 'projet_aap', ['finess'], unique=False)
    op.create_index(op.f('ix_projet_aap_region'), 'projet_aap', ['region'], unique=False)
    op.create_table('decision_projet_connue',
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('projet_id', sa.String(length=36), nullable=False),
    sa.Column('objet', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('montant_accorde', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('decide_par', sa.String(length=200), nullable=False),
    sa.Column('decide_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['projet_id'], ['projet_aap.id'], name=op.f('fk_decision_projet_connue_projet_id_projet_aap')),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_decision_projet_connue'))
    )
    op.create_index(op.f('ix_decision_projet_connue_projet_id'), 'decision_projet_connue', ['projet_id'], unique=False)
    op.create_table('declaration_depenses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('candidature_id', sa.String(length=36), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('montant', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('remplace', sa.String(length=36), nullable=True),
    sa.Column('declare_par', sa.String(length=200), nullable=False),
    sa.Column('declare_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidature_id'], ['candidature.id'], name=op.f('fk_declaration_depenses_candidature_id_candidature')),
    sa.ForeignKeyConstraint(['remplace'], ['declaration_depenses.id'], name=op.f('fk_declaration_depenses_remplace_declaration_depenses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_depenses')),
    sa.UniqueConstraint('remplace', name=op.f('uq_declaration_depenses_remplace'))
    )
    op.create_index(op.f('ix_declaration_depenses_candidature_id'), 'declaration_depenses', ['candidature_id'], unique=False)
    op.create_table('depense_prevue',
    sa.Column('projet_id', sa.String(length=36), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('montant', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['projet_id'], ['projet_aap.id'], name=op.f('fk_depense_prevue_projet_id_projet_aap')),
    sa.PrimaryKeyConstraint('projet_id', 'annee', name=op.f('pk_depense_prevue'))
    )
    op.create_table('indicateur_declare',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('candidature_id', sa.String(length=36), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('objectif', sa.String(length=10), nullable=False),
    sa.Column('indicateur', sa.String(length=20), nullable=False),
    sa.Column('numerateur', sa.BigInteger(), nullable=False),
    sa.Column('denominateur', sa.BigInteger(), nullable=False),
    sa.Column('depose_par', sa.String(length=200), nullable=False),
    sa.Column('depose_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidature_id'], ['candidature.id'], name=op.f('fk_indicateur_declare_candidature_id_candidature')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicateur_declare'))
    )
    op.create_index(op.f('ix_indicateur_declare_candidature_id'), 'indicateur_declare', ['candidature_id'], unique=False)
    op.create_table('preuve_hospiconnect',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('candidature_id', sa.String(length=36), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('annee', sa.Integer(), nullable=False),
    sa.Column('objectif', sa.String(length=10), nullable=False),
    sa.Column('nature', sa.String(length=10), nullable=False),
    sa.Column('document_nom', sa.String(length=255), nullable=True),
    sa.Column('document_type', sa.String(length=100), nullable=True),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('numerateur', sa.BigInteger(), nullable=True),
    sa.Column('denominateur', sa.BigInteger(), nullable=True),
    sa.Column('depose_par', sa.String(length=200), nullable=False),
    sa.Column('depose_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidature_id'], ['candidature.id'], name=op.f('fk_preuve_hospiconnect_candidature_id_candidature')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preuve_hospiconnect'))
    )
    op.create_index(op.f('ix_preuve_hospiconnect_candidature_id'), 'preuve_hospiconnect', ['candidature_id'], unique=False)
    creer_tables_communes(op)
    # Evidence, declarations and decisions are append-only: a correction is a new row that replaces.
    rendre_immuables(op, "indicateur_declare", "declaration_depenses", "preuve_hospiconnect", "decision_projet_connue")


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f('ix_preuve_hospiconnect_candidature_id'), table_name='preuve_hospiconnect')
    op.drop_table('preuve_hospiconnect')
    op.drop_index(op.f('ix_indicateur_declare_candidature_id'), table_name='indicateur_declare')
    op.drop_table('indicateur_declare')
    op.drop_table('depense_prevue')
    op.drop_index(op.f('ix_declaration_depenses_candidature_id'), table_name='declaration_depenses')
    op.drop_table('declaration_depenses')
    op.drop_index(op.f('ix_decision_projet_connue_projet_id'), table_name='decision_projet_connue')
    op.drop_table('decision_projet_connue')
    op.drop_index(op.f('ix_projet_aap_region'), table_name='projet_aap')
    op.drop_index(op.f('ix_projet_aap_finess'), table_name='projet_aap')
    op.drop_table('projet_aap')
    op.drop_table('hospiconnect_valide')
    op.drop_index(op.f('ix_etablissement_connu_maille_hospiconnect'), table_name='etablissement_connu')
    op.drop_index(op.f('ix_etablissement_connu_finess_pmsi_phase2'), table_name='etablissement_connu')
    op.drop_index(op.f('ix_etablissement_connu_finess_ej'), table_name='etablissement_connu')
    op.drop_table('etablissement_connu')
    op.drop_index('uq_candidature_hospiconnect', table_name='candidature', postgresql_where=sa.text("dispositif = 'hospiconnect'"))
    op.drop_index(op.f('ix_candidature_region'), table_name='candidature')
    op.drop_index(op.f('ix_candidature_finess'), table_name='candidature')
    op.drop_table('candidature')
