"""The phase-1 cycle through the five running services, over the real Kafka broker.

An establishment applies, its ARS validates, financement computes and notifies the amorçage,
evidence comes in, objectives are decided, the solde and the reprise are notified, and the
regional synthesis shows them. Expected amounts are computed here, independently, from the
instruction's annex 2 (linear interpolation inside the tranche, rounded once to the cent).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest

from hopen_common.testing import RunningStack, finalement, jeton
from hopen_common.testing.pieces import deposer_avec_pieces_sync
from hopen_common.testing.quatre_yeux import decider_a_deux_sync

pytestmark = pytest.mark.e2e

# CH Calvi (2B, Corse, région 94): public EJ outside any GHT, AC 2022 = 18 530 (tranche B).
CALVI = "2B0005342"
REGION_CORSE = "94"


def centimes(valeur: Fraction) -> Decimal:
    return (Decimal(valeur.numerator) / Decimal(valeur.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def forfait_tranche_b(ac: int, minimum_keur: str, maximum_keur: str) -> Decimal:
    """Annex 2, tranche B (7 000 - 22 499): min + (max - min) x (AC - 7 000) / (22 500 - 7 000)."""
    mini, maxi = Fraction(minimum_keur) * 1000, Fraction(maximum_keur) * 1000
    return centimes(mini + (maxi - mini) * Fraction(ac - 7000, 22500 - 7000))


def amorcage(forfait: Decimal) -> Decimal:
    return (forfait * Decimal("0.30")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(timeout=15) as c:
        yield c


def _creer_candidature(client: httpx.Client, url: str, corps: dict[str, Any],
                       entete: dict[str, str]) -> dict[str, Any]:
    """Create once the referentiel's EtablissementPublie has reached candidature's local copy."""
    def essai() -> dict[str, Any] | None:
        r = client.post(f"{url}/v1/candidatures", json=corps, headers=entete)
        if r.status_code == 422 and "inconnu du référentiel" in r.text:
            return None  # the referentiel's events are still on their way
        assert r.status_code == 201, r.text
        return dict(r.json())
    return finalement(essai, en=60, quoi="establishment known to candidature")


def _lignes(client: httpx.Client, url: str, finess: str, entete: dict[str, str], nombre: int
            ) -> list[dict[str, Any]]:
    def essai() -> list[dict[str, Any]] | None:
        r = client.get(f"{url}/v1/financements", params={"finess": finess}, headers=entete)
        assert r.status_code == 200, r.text
        lignes: list[dict[str, Any]] = r.json()["items"]
        return lignes if len(lignes) >= nombre else None
    return finalement(essai, en=60, quoi=f"{nombre} financement lines for {finess}")


def test_cycle_complet_phase1(running_stack: RunningStack, client: httpx.Client) -> None:
    urls = running_stack.urls
    es = jeton("etablissement", finess=[CALVI], sujet="dsi-calvi")
    ars = jeton("ars", region=REGION_CORSE, sujet="instructeur-corse")
    dns = jeton("dns", sujet="dns")

    fiche = client.get(f"{urls['referentiel']}/v1/etablissements/{CALVI}", headers=es).json()
    assert fiche["region"] == REGION_CORSE
    assert fiche["activite_combinee"] == "18530.00"
    assert fiche["dispositifs"]["phase1"]["eligible"] is True

    candidature = _creer_candidature(client, urls["candidature"], {
        "dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1", "P1.O3"]}, es)
    cid = candidature["id"]
    assert candidature["statut"] == "brouillon"
    # The deposit is refused until the four prerequisites are uploaded (issue 8): the helper uploads
    # each piece the refusal lists through the pieces endpoint, then deposits again.
    r = deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/candidatures/{cid}", es)
    assert r.status_code == 200, r.text

    # The ARS of Corse finds it among its files; the dossier carries the candidature's id.
    dossier = finalement(lambda: next((d for d in client.get(
        f"{urls['instruction']}/v1/dossiers", headers=ars).json()["items"] if d["candidature_id"] == cid),
        None), quoi="dossier in instruction")
    assert dossier["region"] == REGION_CORSE
    r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                    json={"decision": "validee", "motivation": "Prérequis d'identitovigilance fournis"})
    assert r.status_code == 201, r.text
    # Proposed by the instructeur, taken by the valideur who confirmed it (ADR 0023).
    assert (r.json()["proposee_par"], r.json()["decide_par"]) == ("instructeur-corse", "valideur-94")

    # Amorçage: 30 % of each objective's forfait, exactly.
    forfait_o1 = forfait_tranche_b(18530, "6", "12")
    forfait_o3 = forfait_tranche_b(18530, "1.2", "2.4")
    lignes = _lignes(client, urls["financement"], CALVI, es, 2)
    amorcages = {li["objectif"]: li for li in lignes if li["nature"] == "amorcage"}
    assert amorcages["P1.O1"]["montant"] == str(amorcage(forfait_o1))
    assert amorcages["P1.O3"]["montant"] == str(amorcage(forfait_o3))
    assert amorcages["P1.O1"]["calcul"]["tranche"] == "B"
    assert amorcages["P1.O1"]["forfait"] == str(forfait_o1)

    # Evidence: P1.O1 at 85 % (target 80 %), P1.O3 at 50 % (target 55 %: Calvi has no DS1.3).
    for objectif, num in (("P1.O1", 850), ("P1.O3", 500)):
        r = client.post(f"{urls['candidature']}/v1/candidatures/{cid}/indicateurs", headers=es,
                        json={"objectif": objectif, "numerateur": num, "denominateur": 1000})
        assert r.status_code == 201, r.text

    def evaluation_complete() -> dict[str, Any] | None:
        d = client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=ars).json()
        return d if all(e["indicateurs"][0]["taux"] is not None for e in d["evaluation"]) else None
    detail = finalement(evaluation_complete, quoi="evidence in instruction")
    par_objectif = {e["objectif"]: e for e in detail["evaluation"]}
    assert par_objectif["P1.O1"]["cible_atteinte"] is True
    assert par_objectif["P1.O3"]["indicateurs"][0]["cible"] == "0.55"
    assert par_objectif["P1.O3"]["cible_atteinte"] is False

    # Declaring reached an objective under its target is refused, naming the field.
    r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/objectifs/P1.O3/decision",
                            headers=ars,
                    json={"decision": "atteint", "motivation": "essai"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["champ"] == "decision"

    for objectif, decision in (("P1.O1", "atteint"), ("P1.O3", "non_atteint")):
        r = decider_a_deux_sync(client,
                                f"{urls['instruction']}/v1/dossiers/{cid}/objectifs/{objectif}/decision",
                                headers=ars,
                                json={"decision": decision, "motivation": "Mesure 2025 vérifiée"})
        assert r.status_code == 201, r.text
    r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/objectifs/P1.O1/decision",
                            headers=ars,
                    json={"decision": "atteint", "motivation": "deux fois"})
    assert r.status_code == 409  # decisions are immutable: a correction is a new decision

    lignes = _lignes(client, urls["financement"], CALVI, es, 4)
    fin = {(li["objectif"], li["nature"]): li["montant"] for li in lignes}
    assert fin[("P1.O1", "solde")] == str(forfait_o1 - amorcage(forfait_o1))
    assert fin[("P1.O3", "reprise")] == str(amorcage(forfait_o3))
    assert len(lignes) == 4

    def synthese() -> dict[str, Any] | None:
        s = client.get(f"{urls['reporting']}/v1/regions/{REGION_CORSE}/synthese", headers=ars).json()
        # Solde and reprise are two events reporting applies one after the other: wait for both.
        return s if Decimal(s["solde"]) > 0 and Decimal(s["reprise"]) > 0 else None
    s = finalement(synthese, en=60, quoi="regional synthesis updated")
    assert Decimal(s["amorcage"]) == amorcage(forfait_o1) + amorcage(forfait_o3)
    assert Decimal(s["solde"]) == forfait_o1 - amorcage(forfait_o1)
    assert Decimal(s["reprise"]) == amorcage(forfait_o3)
    # The ministry follows every region.
    r = client.get(f"{urls['reporting']}/v1/regions/{REGION_CORSE}/synthese", headers=dns)
    assert r.status_code == 200


def test_une_ars_ne_voit_que_sa_region(running_stack: RunningStack, client: httpx.Client) -> None:
    urls = running_stack.urls
    sartene = "2A0002606"  # Corse too
    es = jeton("etablissement", finess=[sartene])
    candidature = _creer_candidature(client, urls["candidature"], {
        "dispositif": "phase1", "finess": sartene, "objectifs": ["P1.O5"]}, es)
    cid = candidature["id"]
    r = deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/candidatures/{cid}", es)
    assert r.status_code == 200, r.text
    corse = jeton("ars", region=REGION_CORSE)
    finalement(lambda: client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=corse).is_success,
               quoi="dossier in instruction")

    idf = jeton("ars", region="11")
    assert all(d["region"] == "11" for d in client.get(
        f"{urls['instruction']}/v1/dossiers", headers=idf).json()["items"])
    for methode, chemin, corps in (
        ("GET", f"/v1/dossiers/{cid}", None),
        ("POST", f"/v1/dossiers/{cid}/decision", {"decision": "validee", "motivation": "hors region"}),
        ("POST", f"/v1/dossiers/{cid}/objectifs/P1.O5/decision",
         {"decision": "atteint", "motivation": "hors region"}),
    ):
        r = client.request(methode, f"{urls['instruction']}{chemin}", headers=idf, json=corps)
        assert r.status_code == 404, (chemin, r.text)  # not 403: no leak of another region's files
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{urls['candidature']}/v1/candidatures/{cid}", headers=idf).status_code == 404
    r = client.get(f"{urls['reporting']}/v1/regions/{REGION_CORSE}/synthese", headers=idf)
    assert r.status_code == 404
    autre_es = jeton("etablissement", finess=["2B0005342"])
    assert client.get(f"{urls['candidature']}/v1/candidatures/{cid}", headers=autre_es).status_code == 404
    assert client.get(f"{urls['financement']}/v1/financements", params={"finess": sartene},
                      headers=autre_es).status_code == 403
    # Nothing was decided by the other region.
    detail = client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=corse).json()
    assert detail["statut"] == "deposee"
    assert detail["decisions"] == []


async def _sql(url: str, requete: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(requete, *args))
    finally:
        await conn.close()


async def _renvoyer(bootstrap: str, topic: str, cle: str, valeur: bytes, fois: int) -> None:
    from hopen_common.kafka import build_producer, stop_with_timeout

    producteur = build_producer(bootstrap, client_id="test-redelivery")
    await producteur.start()
    try:
        for _ in range(fois):
            await producteur.send_and_wait(topic, valeur, key=cle.encode())
    finally:
        await stop_with_timeout(producteur)


def _valider(client: httpx.Client, urls: dict[str, str], finess: str, region: str,
             objectifs: list[str]) -> str:
    es, ars = jeton("etablissement", finess=[finess]), jeton("ars", region=region)
    cid = _creer_candidature(client, urls["candidature"], {
        "dispositif": "phase1", "finess": finess, "objectifs": objectifs}, es)["id"]
    r = deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/candidatures/{cid}", es)
    assert r.status_code == 200, r.text
    finalement(lambda: client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=ars).is_success,
               quoi="dossier in instruction")
    r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                    json={"decision": "validee", "motivation": "dossier complet"})
    assert r.status_code == 201, r.text
    return str(cid)


def _validation_publiee(running_stack: RunningStack, cid: str) -> Any:
    from hopen_common.devstack._util import run_async

    (validation,) = run_async(_sql(
        running_stack.env["instruction"]["INSTRUCTION_DATABASE_URL"],
        "SELECT event_id::text AS id, envelope::text AS env FROM outbox"
        " WHERE key = $1 AND envelope->>'type' = 'CandidatureValidee'", cid))
    return validation


def _decider(client: httpx.Client, url: str, region: str, cid: str, objectifs: list[str]) -> None:
    for objectif in objectifs:
        r = decider_a_deux_sync(client, f"{url}/v1/dossiers/{cid}/objectifs/{objectif}/decision",
                        headers=jeton("ars", region=region),
                        json={"decision": "non_atteint", "motivation": "cible non atteinte"})
        assert r.status_code == 201, r.text


def test_evenement_redelivre_ne_change_rien(running_stack: RunningStack, client: httpx.Client) -> None:
    """The broker delivers the ARS's validation three more times: the inbox drops them."""
    from hopen_common.contracts import Topics
    from hopen_common.devstack._util import run_async

    urls, butler = running_stack.urls, "800009920"  # private clinic, applies as an EG, region 32
    es = jeton("etablissement", finess=[butler])
    cid = _valider(client, urls, butler, "32", ["P1.O7", "P1.O8"])
    avant = _lignes(client, urls["financement"], butler, es, 2)
    validation = _validation_publiee(running_stack, cid)
    run_async(_renvoyer(running_stack.config.bootstrap, Topics.DOSSIER, cid, validation["env"].encode(), 3))
    # Later events of the same key (same partition) are consumed after the duplicates.
    _decider(client, urls["instruction"], "32", cid, ["P1.O7", "P1.O8"])
    apres = _lignes(client, urls["financement"], butler, es, 4)
    assert sorted(li["nature"] for li in apres) == ["amorcage", "amorcage", "reprise", "reprise"]
    assert [li for li in apres if li["nature"] == "amorcage"] == avant
    (applique,) = run_async(_sql(running_stack.env["financement"]["FINANCEMENT_DATABASE_URL"],
                                 "SELECT count(*) AS n FROM inbox WHERE event_id = $1", validation["id"]))
    assert applique["n"] == 1


def test_meme_sans_inbox_un_montant_n_est_pas_paye_deux_fois(running_stack: RunningStack,
                                                              client: httpx.Client) -> None:
    """A dedup bug (the inbox row is gone) lets the validation through again: the unique
    business key of each amount refuses it, the candidature's events are parked behind it
    until an operator discards the duplicate and replays the rest."""
    from hopen_common.contracts import Topics
    from hopen_common.devstack._util import run_async

    urls, corbie = running_stack.urls, "800012528"  # SSR Pauchet Corbie, private EG, region 32
    es, ops = jeton("etablissement", finess=[corbie]), jeton("ops", sujet="astreinte")
    financement_db = running_stack.env["financement"]["FINANCEMENT_DATABASE_URL"]
    cid = _valider(client, urls, corbie, "32", ["P1.O1"])
    avant = _lignes(client, urls["financement"], corbie, es, 1)
    validation = _validation_publiee(running_stack, cid)
    run_async(_sql(financement_db, "DELETE FROM inbox WHERE event_id = $1", validation["id"]))
    run_async(_renvoyer(running_stack.config.bootstrap, Topics.DOSSIER, cid, validation["env"].encode(), 1))

    def garee() -> dict[str, Any] | None:
        r = client.get(f"{urls['financement']}/v1/operations/lettres-mortes", headers=ops)
        lettres = r.json()["items"]
        return next((lettre for lettre in lettres if lettre["key"] == cid), None)
    lettre = finalement(garee, en=60, quoi="duplicate parked in financement")
    assert lettre["event_id"] == validation["id"]
    # Issue 7: a verdict an operator can read, parked at once, and counted.
    assert lettre["motif"] == "paiement-en-double"
    assert lettre["attempts"] == 1
    assert f"candidature {cid} déjà validée dans financement" in lettre["error"]
    comptes = client.get(f"{urls['financement']}/v1/operations/lettres-mortes/comptes",
                         headers=ops).json()["items"]
    assert {"motif": "paiement-en-double", "status": "parked", "nombre": 1} in comptes
    assert client.get(f"{urls['financement']}/v1/operations/lettres-mortes/comptes",
                      headers=jeton("dns")).status_code == 403

    _decider(client, urls["instruction"], "32", cid, ["P1.O1"])  # parked behind the duplicate
    finalement(lambda: len([x for x in client.get(f"{urls['financement']}/v1/operations/lettres-mortes",
                                                   headers=ops).json()["items"] if x["key"] == cid]) == 2,
               quoi="later event parked behind")
    assert _lignes(client, urls["financement"], corbie, es, 1) == avant

    assert client.post(f"{urls['financement']}/v1/operations/lettres-mortes/{lettre['id']}/abandon",
                       headers=jeton("ars", region="32"), json={"motivation": "doublon"}).status_code == 403
    r = client.post(f"{urls['financement']}/v1/operations/lettres-mortes/{lettre['id']}/abandon", headers=ops,
                    json={"motivation": "doublon d'une validation déjà appliquée"})
    assert r.status_code == 200, r.text
    r = client.post(f"{urls['financement']}/v1/operations/cles/{cid}/rejeu", headers=ops)
    assert r.status_code == 200, r.text
    assert r.json() == {"rejoues": 1}
    lignes = _lignes(client, urls["financement"], corbie, es, 2)
    assert [li["nature"] for li in lignes].count("amorcage") == 1
    assert [li["nature"] for li in lignes].count("reprise") == 1
