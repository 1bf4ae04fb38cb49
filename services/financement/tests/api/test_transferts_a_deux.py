"""DNS transfers by two persons (issue 10, ADR 0025) on the real PostgreSQL: the proposal moves
nothing, another DNS person confirms or rejects, the proposer and the other roles are refused, a
treated proposal is 409, a confirmation that finds the money gone moves nothing, and of concurrent
confirmations exactly one transfers."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from hopen_common.testing import jeton

from ..conftest import DNS_A, DNS_B, ars, etablissement

CORSE, IDF = "94", "11"
OPS = jeton("ops", sujet="ops-1")


def _corps(montant: str, destination: str = IDF) -> dict:
    return {"source": {"region": CORSE}, "destination": {"region": destination}, "montant": montant,
            "motif": "réallocation"}


async def _disponible(api, region: str) -> str:
    return (await api.client.get(f"/v1/enveloppes/{region}", headers=DNS_A)).json()["disponible"]


async def test_proposer_ne_deplace_rien_puis_confirmer(api):
    avant = await _disponible(api, CORSE)
    r = await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json=_corps("1000.00"))
    assert r.status_code == 202, r.text
    p = r.json()
    assert p["statut"] == "en_attente"
    assert p["proposee_par"] == "dns-a"
    assert p["transfert"]["montant"] == "1000.00"
    assert p["disponibles"]["source"]["disponible_avant"] == avant
    assert await _disponible(api, CORSE) == avant  # nothing moved
    ident = p["proposition_id"]
    attente = (await api.client.get("/v1/propositions", params={"statut": "en_attente"},
                                    headers=DNS_B)).json()["items"]
    assert ident in {x["proposition_id"] for x in attente}
    # A second proposal of the same move while one waits.
    r = await api.client.post("/v1/enveloppes/transferts", headers=DNS_B, json=_corps("5.00"))
    assert r.status_code == 409
    assert r.json()["type"].endswith("proposition-en-attente")
    confirmation = f"/v1/propositions/{ident}/confirmation"
    for entetes, statut, type_ in ((DNS_A, 403, "quatre-yeux"), (ars(CORSE), 403, "role-interdit"),
                                   (OPS, 403, "role-interdit"), (etablissement("2B0005342"), 403, None)):
        r = await api.client.post(confirmation, headers=entetes)
        assert r.status_code == statut, r.text
        if type_:
            assert r.json()["type"].endswith(type_)
    r = await api.client.post(confirmation, headers=DNS_B)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["statut"] == "confirmee"
    assert c["confirmee_par"] == "dns-b"
    assert c["ecritures"]["sortie"]["propose_par"] == "dns-a"
    assert c["ecritures"]["sortie"]["confirme_par"] == "dns-b"
    assert (await api.client.post(confirmation, headers=DNS_B)).status_code == 409
    async with api.sessions() as s:
        actions = (await s.execute(text(
            "SELECT action, acteur FROM journal_audit WHERE objet_id = :i ORDER BY id"), {"i": ident})).all()
        evenement = await s.scalar(text(
            "SELECT count(*) FROM outbox WHERE envelope->>'type' = 'EnveloppeTransferee'"
            " AND envelope->'data'->>'proposition_id' = :i AND envelope->'data'->>'propose_par' = 'dns-a'"
            " AND envelope->'data'->>'confirme_par' = 'dns-b'"), {"i": ident})
    assert [tuple(a) for a in actions] == [("transfert_propose", "dns-a"), ("transfert_confirme", "dns-b")]
    assert evenement == 2


async def test_rejet_motive_et_argent_parti(api):
    r = await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json=_corps("10.00", "53"))
    ident = r.json()["proposition_id"]
    rejet = f"/v1/propositions/{ident}/rejet"
    assert (await api.client.post(rejet, headers=DNS_B, json={})).status_code == 422
    r = await api.client.post(rejet, headers=DNS_B, json={"motivation": "pas maintenant"})
    assert r.status_code == 200
    assert r.json()["statut"] == "rejetee"
    assert r.json()["rejetee_par"] == "dns-b"
    r = await api.client.post(f"/v1/propositions/{ident}/confirmation", headers=DNS_B)
    assert r.status_code == 409
    # Two proposals of all that is available: once the first is confirmed, the second finds nothing left.
    tout = await _disponible(api, CORSE)
    p1 = (await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json=_corps(tout, "53"))).json()
    p2 = (await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json=_corps(tout, "28"))).json()
    assert (await api.client.post(f"/v1/propositions/{p1['proposition_id']}/confirmation",
                                  headers=DNS_B)).status_code == 200
    r = await api.client.post(f"/v1/propositions/{p2['proposition_id']}/confirmation", headers=DNS_B)
    assert r.status_code == 422, r.text
    lue = (await api.client.get(f"/v1/propositions/{p2['proposition_id']}", headers=DNS_B)).json()
    assert lue["statut"] == "en_attente"
    assert await _disponible(api, CORSE) == "0.00"


async def test_confirmations_concurrentes_une_seule_gagne(api):
    # Back to Corse from Île-de-France, then ten confirmations at once by ten DNS persons.
    r = await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json={
        "source": {"region": IDF}, "destination": {"region": CORSE}, "montant": "500.00", "motif": "retour"})
    ident = r.json()["proposition_id"]
    reponses = await asyncio.gather(*(
        api.client.post(f"/v1/propositions/{ident}/confirmation", headers=jeton("dns", sujet=f"dns-{i}"))
        for i in range(10)))
    assert sorted(x.status_code for x in reponses) == [200] + [409] * 9
    async with api.sessions() as s:
        n = await s.scalar(text("SELECT count(*) FROM ecriture_enveloppe WHERE proposition_id = :i"),
                           {"i": ident})
    assert n == 2
