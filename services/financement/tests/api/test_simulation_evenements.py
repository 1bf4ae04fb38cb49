"""POST /v1/simulations/evenements (ADR 0018): per decision event, the amounts the consumers would
compute from it, or the problem that would park it; nothing is written; an ARS sends its region's
events only."""

from __future__ import annotations

from typing import Any

from hopen_common.db.messaging import OutboxMessage
from hopen_common.events import decoder_payload
from hopen_common.testing.api import rien_ecrit
from hopen_financement.consumers import HANDLERS
from hopen_financement.notifications.models import LigneFinancement, Notification

from .. import builders as b
from ..conftest import DNS, ars

CORSE, BFC = "94", "27"
CALVI = "2B0005342"


async def _appliquer(api, *evenements) -> None:  # type: ignore[no-untyped-def]
    """The consumer's handlers, as Kafka would call them: the state the simulation reads."""
    async with api.sessions() as s:
        for e in evenements:
            await HANDLERS[e.type](s, e, decoder_payload(e))
        await s.commit()


def _corps(*evenements) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"evenements": [e.model_dump(mode="json") for e in evenements]}


async def test_montants_par_evenement(api) -> None:  # type: ignore[no-untyped-def]
    await _appliquer(api, b.etablissement(CALVI, CORSE, "15000"),
                     b.etablissement("750000010", CORSE, "512345.50"),
                     b.validee("deja", CALVI, CORSE, ["P1.O2"]))
    evenements = [
        b.validee("nouvelle", "750000010", CORSE, ["P1.O1"]),
        b.validee("hc", CALVI, CORSE, ["1.0"], dispositif="hospiconnect"),
        b.validee("encore", CALVI, CORSE, ["P1.O2"]),  # P1.O2 of CALVI is paid already
        b.objectif("deja", CALVI, CORSE, "P1.O2", True, ["P1.O2"]),
        b.objectif("deja", CALVI, CORSE, "P1.O2", False, ["P1.O2"]),
        b.objectif("inconnue", CALVI, CORSE, "P1.O2", True, ["P1.O2"]),
        b.projet("p1", CALVI, CORSE, "100000.01"),
    ]
    async with rien_ecrit(api.engine, LigneFinancement, Notification, OutboxMessage):
        r = await api.client.post("/v1/simulations/evenements", headers=ars(CORSE), json=_corps(*evenements))
    assert r.status_code == 200, r.text
    res = r.json()["resultats"]
    assert [x["evenement_id"] for x in res] == [e.id for e in evenements]
    assert res[0]["montants"] == [{"finess_ej": "750000010", "objectif": "P1.O1", "nature": "amorcage",
                                   "montant": "24000.00", "forfait": "80000.00", "annee": None}]
    assert (res[1]["montants"], res[1]["total"]) == ([], "0.00")
    assert "HospiConnect" in res[1]["note"]
    assert res[2]["probleme"]["type"].endswith("/montant-non-calculable")
    assert res[2]["montants"] == []
    # Financement's own example: forfait 18 193.55, amorcage 5 458.07.
    assert [(m["nature"], m["montant"]) for m in res[3]["montants"]] == [("solde", "12735.48")]
    assert [(m["nature"], m["montant"]) for m in res[4]["montants"]] == [("reprise", "5458.07")]
    assert res[4]["total"] == "-5458.07"
    assert "non validée" in res[5]["probleme"]["detail"]
    # Halves: the first rounded half up, the last the remainder.
    assert [(m["nature"], m["montant"], m["annee"]) for m in res[6]["montants"]] == [
        ("aap_acceptation", "50000.01", 2026), ("aap_atteinte", "50000.00", 2027)]


async def test_portee_et_entree(api) -> None:  # type: ignore[no-untyped-def]
    e = b.validee("x", CALVI, CORSE, ["P1.O1"])
    r = await api.client.post("/v1/simulations/evenements", headers=ars(BFC), json=_corps(e))
    assert (r.status_code, r.json()["champ"]) == (403, "evenements.0")
    r = await api.client.post("/v1/simulations/evenements", headers=DNS, json=_corps(e))
    assert r.status_code == 200
    r = await api.client.post("/v1/simulations/evenements", headers=DNS, json={"evenements": []})
    assert (r.status_code, r.json()["champ"]) == (422, "evenements")
    inconnu = {**e.model_dump(mode="json"), "type": "Inconnu", "dataschema": "Inconnu/v1"}
    r = await api.client.post("/v1/simulations/evenements", headers=DNS, json={"evenements": [inconnu]})
    assert r.json()["resultats"][0]["probleme"]["champ"] == "evenements"


async def test_une_ars_ne_lit_pas_une_autre_region(api) -> None:  # type: ignore[no-untyped-def]
    """An event the ARS labels with its own region but naming another region's candidature or EJ
    reads nothing of it: the same answer as an unknown one, no amount."""
    await _appliquer(api, b.etablissement(CALVI, CORSE, "15000"),
                     b.etablissement("750000010", CORSE, "512345.50"),
                     b.validee("corse-cand", CALVI, CORSE, ["P1.O3"]))
    deguises = [b.objectif("corse-cand", CALVI, BFC, "P1.O3", True, ["P1.O3"]),
                b.objectif("absente", CALVI, BFC, "P1.O3", True, ["P1.O3"]),
                b.validee("corse-2", "750000010", BFC, ["P1.O1"])]
    r = await api.client.post("/v1/simulations/evenements", headers=ars(BFC), json=_corps(*deguises))
    assert r.status_code == 200, r.text
    autre, absente, ej = r.json()["resultats"]
    assert autre["montants"] == ej["montants"] == []
    assert autre["probleme"]["type"].endswith("/montant-non-calculable")
    assert autre["probleme"]["detail"].replace("corse-cand", "X") == absente["probleme"]["detail"].replace(
        "absente", "X")
    assert ej["probleme"]["type"].endswith("/montant-non-calculable")
    # The DNS reads every region.
    r = await api.client.post("/v1/simulations/evenements", headers=DNS, json=_corps(deguises[0]))
    assert r.json()["resultats"][0]["montants"] != []


async def test_deux_candidatures_d_une_ej_dans_un_lot(api) -> None:  # type: ignore[no-untyped-def]
    """Two validations of the same EJ and objective in one batch (a lot): only the first would be
    paid; the second is the consumer's paiement-en-double, not a second amorçage in the total."""
    await _appliquer(api, b.etablissement("2A0000220", CORSE, "30000"),
                     b.etablissement("750000010", CORSE, "512345.50"))
    premiere, seconde = b.validee("lot-a", "2A0000220", CORSE, ["P1.O4"]), \
        b.validee("lot-b", "2A0000220", CORSE, ["P1.O4"])
    r = await api.client.post("/v1/simulations/evenements", headers=ars(CORSE),
                              json=_corps(premiere, seconde))
    assert r.status_code == 200, r.text
    a, b_ = r.json()["resultats"]
    assert [m["nature"] for m in a["montants"]] == ["amorcage"]
    assert (b_["montants"], b_["total"]) == ([], "0.00")
    assert "lot-a" in b_["probleme"]["detail"]


async def test_une_enveloppe_mal_formee_est_refusee_en_nommant_le_champ(api) -> None:  # type: ignore[no-untyped-def]
    """schemathesis found it: a `dataschema` without its `/v<version>` reached the decoder and
    answered 500. The envelope refuses it, as a poison record is refused by the consumers."""
    corps = _corps(b.projet("p1", CALVI, CORSE, "100000.01"))
    for mauvais in ("x", "ProjetAapSelectionne/vdeux", "ProjetAapSelectionne/v1/v2"):
        corps["evenements"][0]["dataschema"] = mauvais
        r = await api.client.post("/v1/simulations/evenements", headers=DNS, json=corps)
        assert r.status_code == 422, (mauvais, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "dataschema" in r.text, r.text
