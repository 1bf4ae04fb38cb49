"""AAP projects through the candidature API on its real database: a lead ES (FINESS PMSI) drafts,
every rule is checked (theme and its eligibility, participants, perimeter, team, forecast, at most two
projects per FINESS PMSI, deadline), refusals name the field and write nothing, the deposit publishes
ProjetAapDepose. The referentiel copy and the HospiConnect validations are seeded directly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.models import DepensePrevue, EtablissementConnu, HospiconnectValide, ProjetAap
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import NouveauClient, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu

LEAD, LEAD_EG, LEAD_EG2 = "210012142", "210987665", "210987673"  # public EJ: its FINESS PMSI
CLINIQUE = "800009920"  # private EG: its own FINESS PMSI (EJ 800003071)
CLINIQUE_EJ = "800003071"
SANS_HC, SANS_HC_EG = "520780057", "520000043"  # eligible, no validated HospiConnect candidature
NON_ELIGIBLE, NON_ELIGIBLE_EG = "830100582", "830100590"
AUTRE_1, AUTRE_1_EG, AUTRE_2, AUTRE_2_EG = "2B0005342", "2B0005359", "2A0002606", "2A0002614"
SHA = "cd" * 32


_etab = partial(etablissement_connu, region="27", effectifs=500, activite_combinee_2024=Decimal("40000"))


def _eg(finess: str, ej: str, pmsi: str, **champs: Any) -> dict[str, Any]:
    return _etab(finess, finess_ej=ej, niveau="EG", finess_pmsi_phase2=pmsi, maille_aap=pmsi, **champs)


ETABLISSEMENTS = [
    _etab(LEAD), _eg(LEAD_EG, LEAD, LEAD), _eg(LEAD_EG2, LEAD, LEAD),
    _etab(CLINIQUE_EJ, secteur="prive_lucratif", maille_aap=None, finess_pmsi_phase2=None),
    _eg(CLINIQUE, CLINIQUE_EJ, CLINIQUE, secteur="prive_lucratif"),
    _etab(SANS_HC), _eg(SANS_HC_EG, SANS_HC, SANS_HC),
    _etab(NON_ELIGIBLE, eligible_aap=False), _eg(NON_ELIGIBLE_EG, NON_ELIGIBLE, NON_ELIGIBLE),
    _etab(AUTRE_1), _eg(AUTRE_1_EG, AUTRE_1, AUTRE_1),
    _etab(AUTRE_2), _eg(AUTRE_2_EG, AUTRE_2, AUTRE_2),
]
# The HospiConnect candidatures the ARS validated (in production: CandidatureValidee events). The
# clinic is covered through its EJ, which applies for all its EG.
VALIDES = [LEAD, CLINIQUE_EJ, AUTRE_1, AUTRE_2]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
        await conn.execute(insert(HospiconnectValide), [
            {"finess_ej": f, "candidature_id": f"hc-{f}", "decision_id": f"d-{f}",
             "valide_le": datetime.now(UTC)}
            for f in VALIDES])
    yield engine
    await engine.dispose()


# Every table a request could write: a refused one leaves their row counts as they were (rien_ecrit).
ECRITES = (ProjetAap, DepensePrevue, JournalAudit, OutboxMessage, RequeteIdempotente)


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


def projet(**champs: Any) -> dict[str, Any]:
    corps: dict[str, Any] = {
        "finess": LEAD, "theme": "logistique_produits_sante", "titre": "Traçabilité des dispositifs",
        "description": "Suivi des stocks de la pharmacie à usage intérieur.",
        "objectifs": ["Inventaire permanent", "Alertes de rupture"],
        "participants": [CLINIQUE], "perimetre": [LEAD_EG, CLINIQUE],
        "equipe": [{"nom": "Pharmacienne", "fonction": "PUI", "responsable": True},
                   {"nom": "DSI", "fonction": "SI"}],
        "depenses_prevues": [{"annee": 2026, "montant": "80000.00"}, {"annee": 2027, "montant": "20000.50"}],
    }
    corps.update(champs)
    return corps


LEAD_JETON = jeton("etablissement", finess=[LEAD], sujet="dir-lead")


async def test_hors_delai(moteur: AsyncEngine, nouveau_client: NouveauClient) -> None:
    async with nouveau_client(ouvert=False) as client, rien_ecrit(moteur, *ECRITES):
        r = await client.post("/v1/projets", headers=LEAD_JETON, json=projet())
    assert "2026-05-29" in _probleme(r, 422, "date")["detail"]


@pytest.mark.parametrize(("champs", "champ", "extrait"), [
    ({"theme": "cybersecurite"}, "theme", "thématique inconnue"),
    ({"theme": "rattrapage_maturite"}, "sans_versement_usage", "sans versement"),
    ({"sans_versement_usage": True}, "sans_versement_usage", "rattrapage"),
    ({"participants": [SANS_HC], "perimetre": [LEAD_EG, SANS_HC_EG]}, "participants.0",
     "HospiConnect validée"),
    ({"participants": [NON_ELIGIBLE], "perimetre": [LEAD_EG, NON_ELIGIBLE_EG]}, "participants.0",
     "pas éligible"),
    ({"participants": [CLINIQUE_EJ]}, "participants.0", "pas un FINESS PMSI"),
    ({"participants": ["010000024"]}, "participants.0", "inconnu du référentiel"),
    ({"participants": [CLINIQUE, CLINIQUE]}, "participants.1", "deux fois"),
    ({"participants": [LEAD]}, "participants.0", "deux fois"),
    ({"perimetre": [LEAD_EG, SANS_HC_EG]}, "perimetre.1", "ne participe pas"),
    ({"perimetre": [LEAD_EG]}, "participants.0", "sans établissement géographique"),
    ({"perimetre": [LEAD, CLINIQUE]}, "perimetre.0", "pas un établissement géographique"),
    ({"perimetre": []}, "perimetre", "au moins un"),
    ({"objectifs": []}, "objectifs", "au moins un"),
    ({"objectifs": ["Alertes", " alertes "]}, "objectifs.1", "double"),
    ({"equipe": [{"nom": "A", "fonction": "B"}]}, "equipe", "exactement un"),
    ({"depenses_prevues": [{"annee": 2026, "montant": "10.00"}]}, "depenses_prevues", "2027"),
    ({"depenses_prevues": [{"annee": 2026, "montant": 10.0}]}, "depenses_prevues.0.montant", "chaîne"),
    ({"depenses_prevues": [{"annee": 2025, "montant": "1.00"}, {"annee": 2027, "montant": "1.00"}]},
     "depenses_prevues.0.annee", "2025"),
    ({"depenses_prevues": [{"annee": 2026, "montant": "0.00"}, {"annee": 2027, "montant": "0.00"}]},
     "depenses_prevues", "nul"),
    # A letter is a piece of the created project (test_pieces_api): none can be named at creation.
    ({"lettres_partenaires": [{"partenaire": "X", "piece_id": "00000000-0000-4000-8000-000000000000"}]},
     "lettres_partenaires", ""),
    ({"lettres_partenaires": [{"partenaire": "X", "nom": "y", "sha256": SHA}]},
     "lettres_partenaires", ""),
])
async def test_refus(api: httpx.AsyncClient, moteur: AsyncEngine, champs: dict[str, Any], champ: str,
                     extrait: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/projets", headers=LEAD_JETON, json=projet(**champs))
    assert extrait in _probleme(r, 422, champ)["detail"]


async def test_chef_de_file(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        # The lead is a FINESS of the caller's token, and is itself a FINESS PMSI.
        r = await api.post("/v1/projets", headers=jeton("etablissement", finess=[CLINIQUE]), json=projet())
        _probleme(r, 403, "finess")
        r = await api.post("/v1/projets", headers=jeton("etablissement", finess=[LEAD_EG]),
                           json=projet(finess=LEAD_EG))
        _probleme(r, 422, "finess")
        r = await api.post("/v1/projets", headers=jeton("ars", region="27"), json=projet())
        assert r.status_code == 403


async def test_depot_et_portee(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    cle = {**LEAD_JETON, "Idempotency-Key": "projet-1"}
    r = await api.post("/v1/projets", headers=cle, json=projet())
    assert r.status_code == 201, r.text
    assert (await api.post("/v1/projets", headers=cle, json=projet())).json() == r.json()
    lu = r.json()
    pid = lu["id"]
    assert (lu["statut"], lu["participants"], lu["depenses_prevues_total"]) == (
        "brouillon", [LEAD, CLINIQUE], "100000.50")
    assert lu["depenses_prevues"] == [{"annee": 2026, "montant": "80000.00"},
                                      {"annee": 2027, "montant": "20000.50"}]

    clinique = jeton("etablissement", finess=[CLINIQUE])
    assert (await api.get(f"/v1/projets/{pid}", headers=clinique)).status_code == 200  # a participant reads
    async with rien_ecrit(moteur, *ECRITES):
        # Only the lead deposits.
        _probleme(await api.post(f"/v1/projets/{pid}/depot", headers=clinique), 403, "finess")
    for autre in (jeton("etablissement", finess=[AUTRE_1]), jeton("ars", region="94")):
        assert (await api.get(f"/v1/projets/{pid}", headers=autre)).status_code == 404
        assert pid not in {p["id"] for p in (await api.get("/v1/projets", headers=autre)).json()["items"]}
    assert (await api.get(f"/v1/projets/{pid}", headers=jeton("ars", region="27"))).status_code == 200

    r = await api.post(f"/v1/projets/{pid}/depot", headers=LEAD_JETON)
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "depose"
    assert (await api.post(f"/v1/projets/{pid}/depot", headers=LEAD_JETON)).status_code == 409
    async with moteur.connect() as conn:
        (envelope,) = (await conn.scalars(select(OutboxMessage.envelope).where(
            OutboxMessage.key == pid))).all()
    assert envelope["type"] == "ProjetAapDepose"
    donnees = envelope["data"]
    assert (donnees["finess"], donnees["region"], donnees["participants"], donnees["perimetre"]) == (
        LEAD, "27", [LEAD, CLINIQUE], [LEAD_EG, CLINIQUE])
    assert donnees["depenses_prevues"] == [{"annee": 2026, "montant": "80000.00"},
                                           {"annee": 2027, "montant": "20000.50"}]
    assert donnees["equipe"][0] == {"nom": "Pharmacienne", "fonction": "PUI", "responsable": True}
    assert donnees["sans_versement_usage"] is None


async def test_rattrapage(api: httpx.AsyncClient) -> None:
    # No HospiConnect condition: an ES without a validated candidature may lead it, on its declaration.
    r = await api.post("/v1/projets", headers=jeton("etablissement", finess=[SANS_HC]), json=projet(
        finess=SANS_HC, theme="rattrapage_maturite", sans_versement_usage=True, participants=[],
        perimetre=[SANS_HC_EG]))
    assert r.status_code == 201, r.text


async def test_deux_projets_au_plus(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """The clinic already takes part in one deposited project (test_depot_et_portee): one more, not two."""
    autre = jeton("etablissement", finess=[AUTRE_1])
    corps = projet(finess=AUTRE_1, perimetre=[AUTRE_1_EG, CLINIQUE])
    brouillons = [(await api.post("/v1/projets", headers=autre, json=corps)).json()["id"] for _ in range(2)]
    # Drafts do not count: both could be created; the deposit is what takes a place.
    assert (await api.post(f"/v1/projets/{brouillons[0]}/depot", headers=autre)).status_code == 200
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/projets/{brouillons[1]}/depot", headers=autre)
        assert "2 projet(s) déposé(s)" in _probleme(r, 422, "participants.0")["detail"]
        r = await api.post("/v1/projets", headers=jeton("etablissement", finess=[AUTRE_2]),
                           json=projet(finess=AUTRE_2, participants=[CLINIQUE],
                                       perimetre=[AUTRE_2_EG, CLINIQUE]))
        _probleme(r, 422, "participants.0")
    # The lead counts too.
    r = await api.post("/v1/projets", headers=autre, json=projet(finess=AUTRE_1, participants=[AUTRE_2],
                                                                 perimetre=[AUTRE_1_EG, AUTRE_2_EG]))
    assert r.status_code == 201, r.text
    assert (await api.post(f"/v1/projets/{r.json()['id']}/depot", headers=autre)).status_code == 200
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/projets", headers=autre, json=projet(finess=AUTRE_1, participants=[],
                                                                     perimetre=[AUTRE_1_EG]))
        _probleme(r, 422, "finess")
