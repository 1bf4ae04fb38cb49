"""One scope check, table-driven over the four roles: 404 for a resource out of scope (no existence
leak), 403 hors-perimetre for a list filter or an establishment's write out of scope."""

from __future__ import annotations

import pytest

from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import (
    exiger_acces,
    exiger_finess,
    exiger_portee_etablissement,
    exiger_region,
    filtre_liste,
    region_de_lecture,
    restreindre,
    voit,
)
from hopen_common.errors import ProblemError

EJ, EG, AUTRE = "210780581", "210012142", "010780054"
ARA, BFC = "84", "27"

ETAB = Principal("daf", Role.ETABLISSEMENT, finess=(EJ, EG))
ARS = Principal("ars-ara", Role.ARS, region=ARA)
DNS = Principal("dns", Role.DNS)
# Ops sees operations, not business data (issue 12): no region, no FINESS, no list.
OPS = Principal("ops", Role.OPS)
TOUS = {"etablissement": ETAB, "ars": ARS, "dns": DNS, "ops": OPS}


def _issue(appel: object, *args: object, **kwargs: object) -> tuple[int, str, str | None] | None:
    try:
        appel(*args, **kwargs)  # type: ignore[operator]
    except ProblemError as e:
        return e.status, e.code, e.champ
    return None


INTROUVABLE = (404, "introuvable", None)


@pytest.mark.parametrize(("role", "region", "attendu"), [
    ("etablissement", ARA, INTROUVABLE),  # an establishment's scope is FINESS numbers, not a region
    ("ars", ARA, None),
    ("ars", BFC, INTROUVABLE),
    ("dns", BFC, None),
    ("ops", BFC, INTROUVABLE),
])
def test_exiger_region(role: str, region: str, attendu: tuple[int, str, None] | None) -> None:
    assert _issue(exiger_region, TOUS[role], region, ressource="Enveloppe", identifiant=region) == attendu


@pytest.mark.parametrize(("role", "finess", "attendu"), [
    ("etablissement", (EJ,), None),
    ("etablissement", (EG,), None),
    ("etablissement", (AUTRE, EG), None),  # any one of them
    ("etablissement", (AUTRE,), INTROUVABLE),
    ("etablissement", (), INTROUVABLE),
    ("ars", (EJ,), INTROUVABLE),  # a FINESS alone says no region: exiger_acces is the ARS's check
    ("dns", (AUTRE,), None),
    ("ops", (AUTRE,), INTROUVABLE),
])
def test_exiger_finess(role: str, finess: tuple[str, ...], attendu: tuple[int, str, None] | None) -> None:
    assert _issue(exiger_finess, TOUS[role], *finess, ressource="Candidature", identifiant="c1") == attendu


@pytest.mark.parametrize(("role", "region", "finess", "attendu"), [
    ("etablissement", BFC, EJ, None),  # its FINESS, whatever the region
    ("etablissement", ARA, (AUTRE, EG), None),
    ("etablissement", ARA, AUTRE, INTROUVABLE),  # a bare string is one FINESS, not 9 characters
    ("etablissement", ARA, (), INTROUVABLE),
    ("ars", ARA, AUTRE, None),
    ("ars", BFC, EJ, INTROUVABLE),
    ("dns", BFC, AUTRE, None),
    ("ops", BFC, AUTRE, INTROUVABLE),
])
def test_exiger_acces(role: str, region: str, finess: str | tuple[str, ...],
                      attendu: tuple[int, str, None] | None) -> None:
    assert _issue(exiger_acces, TOUS[role], region=region, finess=finess, ressource="Notification",
                  identifiant="n1") == attendu
    assert voit(TOUS[role], region=region, finess=finess) is (attendu is None)


def test_introuvable_ne_dit_rien_du_perimetre() -> None:
    with pytest.raises(ProblemError) as hors:
        exiger_acces(ARS, region=BFC, finess=EJ, ressource="Projet", identifiant="p1")
    assert (hors.value.detail, hors.value.title) == ("Projet p1 introuvable", "Ressource introuvable")


HORS_FINESS = (403, "hors-perimetre", "finess")
HORS_REGION = (403, "hors-perimetre", "region")


@pytest.mark.parametrize(("role", "finess", "region", "attendu"), [
    ("etablissement", EJ, None, None),
    ("etablissement", EG, BFC, None),  # the query is restricted to its FINESS anyway
    ("etablissement", None, None, HORS_FINESS),  # must name one FINESS of its token
    ("etablissement", AUTRE, None, HORS_FINESS),
    ("ars", None, None, None),
    ("ars", None, ARA, None),
    ("ars", AUTRE, ARA, None),
    ("ars", None, BFC, HORS_REGION),
    ("dns", AUTRE, BFC, None),
    ("dns", None, None, None),
    ("ops", AUTRE, BFC, (403, "hors-perimetre", None)),
    ("ops", None, None, (403, "hors-perimetre", None)),
])
def test_filtre_liste(role: str, finess: str | None, region: str | None,
                      attendu: tuple[int, str, str] | None) -> None:
    assert _issue(filtre_liste, TOUS[role], finess=finess, region=region) == attendu


@pytest.mark.parametrize(("role", "finess", "attendu"), [
    ("etablissement", EJ, None),
    ("etablissement", EG, None),
    ("etablissement", AUTRE, HORS_FINESS),
    ("ars", EJ, HORS_FINESS),  # nobody writes on an establishment's behalf
    ("dns", EJ, HORS_FINESS),
    ("ops", EJ, HORS_FINESS),
])
def test_exiger_portee_etablissement(role: str, finess: str, attendu: tuple[int, str, str] | None) -> None:
    assert _issue(exiger_portee_etablissement, TOUS[role], finess) == attendu


def _lignes_vues(principal: Principal, *, par_finess: bool = True) -> list[tuple[str, str]]:
    """Run `restreindre` for real (SQLite in memory: a pure query check, no service infrastructure)."""
    from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

    table = Table("ligne", MetaData(), Column("region", String), Column("finess", String))
    moteur = create_engine("sqlite://")
    table.metadata.create_all(moteur)
    with moteur.begin() as cnx:
        cnx.execute(insert(table), [{"region": ARA, "finess": EJ}, {"region": ARA, "finess": AUTRE},
                                    {"region": BFC, "finess": EG}])
        query = restreindre(select(table.c.region, table.c.finess), principal, region=table.c.region,
                            finess=table.c.finess.in_ if par_finess else None)
        return sorted((r, f) for r, f in cnx.execute(query).all())


@pytest.mark.parametrize(("role", "attendu"), [
    ("etablissement", sorted([(ARA, EJ), (BFC, EG)])),
    ("ars", sorted([(ARA, AUTRE), (ARA, EJ)])),
    ("dns", sorted([(ARA, AUTRE), (ARA, EJ), (BFC, EG)])),
    ("ops", []),
])
def test_restreindre(role: str, attendu: list[tuple[str, str]]) -> None:
    assert _lignes_vues(TOUS[role]) == attendu


def test_restreindre_sans_regle_pour_les_etablissements_ne_rend_rien() -> None:
    assert _lignes_vues(ETAB, par_finess=False) == []


def test_region_de_lecture() -> None:
    assert region_de_lecture(ARS, None) == ARA
    assert region_de_lecture(ARS, BFC) == ARA  # a foreign filter was refused before; never widened
    assert region_de_lecture(DNS, BFC) == BFC
    assert region_de_lecture(DNS, None) is None


# Issue 9: an expert sees nothing through the scope helpers; only the opinions it is invited to open a
# dossier to it (instruction's avis slice checks the invitation, not the region).
EXPERT = Principal("grades-ara", Role.EXPERT, region=ARA)


def test_l_expert_ne_voit_rien_par_la_portee() -> None:
    assert _issue(exiger_region, EXPERT, ARA, ressource="Dossier", identifiant="d1") == INTROUVABLE
    assert _issue(exiger_finess, EXPERT, EJ, ressource="Dossier", identifiant="d1") == INTROUVABLE
    assert _issue(exiger_acces, EXPERT, region=ARA, finess=EJ, ressource="Dossier",
                  identifiant="d1") == INTROUVABLE
    assert _issue(exiger_portee_etablissement, EXPERT, EJ) == HORS_FINESS
    assert _lignes_vues(EXPERT) == []
    assert voit(EXPERT, region=ARA, finess=EJ) is False
