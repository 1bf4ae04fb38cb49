"""pay once (issue 7): one open candidature per applicant and dispositif, each EJ counted once

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

`candidature_ej` lists the FINESS each candidature counts (a GHT support's perimeter members, else the
applicant's own), filled from the existing perimeters. The partial unique indexes hold while the
candidature is open (brouillon, deposee, validee); `uq_candidature_ouverte` replaces the HospiConnect
index that held over every status. Existing rows keep their status (brouillon or deposee). Data the new
indexes would refuse (phase 1 had no guard) stops the upgrade with the conflicts named: an operator
resolves them (a withdrawal), nothing is dropped or rewritten here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OUVERTE = "statut IN ('brouillon', 'deposee', 'validee')"


def _refuser_si(requete: str, quoi: str) -> None:
    conflits = op.get_bind().execute(sa.text(requete)).all()
    if conflits:
        liste = "; ".join(", ".join(str(c) for c in ligne) for ligne in conflits)
        raise RuntimeError(f"{quoi} : {liste}")


def upgrade() -> None:
    op.create_table('candidature_ej',
    sa.Column('candidature_id', sa.String(length=36), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=False),
    sa.Column('dispositif', sa.String(length=20), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['candidature_id'], ['candidature.id'], name=op.f('fk_candidature_ej_candidature_id_candidature')),
    sa.PrimaryKeyConstraint('candidature_id', 'finess_ej', name=op.f('pk_candidature_ej'))
    )
    op.execute("""
        INSERT INTO candidature_ej (candidature_id, finess_ej, dispositif, statut)
        SELECT DISTINCT c.id, COALESCE(m.membre ->> 'finess_ej', c.finess), c.dispositif, c.statut
        FROM candidature c
        LEFT JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(c.perimetre) = 'array' THEN c.perimetre ELSE '[]'::jsonb END
        ) AS m(membre) ON true
    """)
    _refuser_si(f"""
        SELECT finess, dispositif, string_agg(id, ' ' ORDER BY cree_le) FROM candidature
        WHERE {OUVERTE} GROUP BY finess, dispositif HAVING count(*) > 1
    """, "plusieurs candidatures ouvertes pour un même candidat et dispositif (désister les doublons"
         " avant la migration)")
    _refuser_si(f"""
        SELECT finess_ej, dispositif, string_agg(candidature_id, ' ' ORDER BY candidature_id)
        FROM candidature_ej WHERE {OUVERTE} GROUP BY finess_ej, dispositif HAVING count(*) > 1
    """, "une entité juridique est couverte par plusieurs candidatures ouvertes (désister les doublons"
         " avant la migration)")
    op.drop_index('uq_candidature_hospiconnect', table_name='candidature',
                  postgresql_where=sa.text("dispositif = 'hospiconnect'"))
    op.create_index('uq_candidature_ouverte', 'candidature', ['finess', 'dispositif'], unique=True,
                    postgresql_where=sa.text(OUVERTE))
    op.create_index('uq_candidature_ej_ouverte', 'candidature_ej', ['dispositif', 'finess_ej'], unique=True,
                    postgresql_where=sa.text(OUVERTE))


def downgrade() -> None:
    # Before 0003 the candidature never followed the ARS decisions: a decided one was "deposee".
    # A withdrawn one has no earlier equivalent and stays "desistee" (inert for the earlier code).
    op.execute("UPDATE candidature SET statut = 'deposee' WHERE statut IN ('validee', 'refusee')")
    _refuser_si("""
        SELECT finess, string_agg(id, ' ' ORDER BY cree_le) FROM candidature
        WHERE dispositif = 'hospiconnect' GROUP BY finess HAVING count(*) > 1
    """, "0002 n'admet qu'une candidature HospiConnect par candidat, tous statuts confondus")
    op.drop_index('uq_candidature_ej_ouverte', table_name='candidature_ej', postgresql_where=sa.text(OUVERTE))
    op.drop_index('uq_candidature_ouverte', table_name='candidature', postgresql_where=sa.text(OUVERTE))
    op.create_index('uq_candidature_hospiconnect', 'candidature', ['finess'], unique=True,
                    postgresql_where=sa.text("dispositif = 'hospiconnect'"))
    op.drop_table('candidature_ej')
