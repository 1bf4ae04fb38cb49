"""Read endpoints and DNS transfers over the real database: the figures, the scoping of every
endpoint (ARS: its region, another region's resource is 404; establishment: its FINESS; DNS:
national), the budget-circular exports that add up, and the immutability of what was decided."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from hopen_common.events import decoder_payload
from hopen_financement.consumers import HANDLERS

from .. import builders as b
from .. import oracle
from ..conftest import DNS, DNS_A, DNS_B, ars, etablissement

D = Decimal
CORSE, IDF, BRETAGNE = "94", "11", "53"
# Valid check keys: FINESS query filters are now refused at the edge when the key is wrong (issue 7).
CALVI, PARIS, RENNES = "2B0005342", "750000002", "350000006"


async def _appliquer(api, *evenements) -> None:
    """Apply events with financement's handlers, each in its own transaction (as the consumer does)."""
    for ev in evenements:
        async with api.sessions() as s:
            await HANDLERS[ev.type](s, ev, decoder_payload(ev))
            await s.commit()


@pytest.fixture(scope="module", autouse=True)
async def donnees(api):
    await _appliquer(
        api,
        b.etablissement(CALVI, CORSE, "18530"),
        b.etablissement(PARIS, IDF, "300000"),
        b.etablissement(RENNES, BRETAGNE, "50000", effectifs=1000),
    )
    await _appliquer(
        api, b.validee("c-corse", CALVI, CORSE, ["P1.O1", "P1.O3"]), b.validee("c-idf", PARIS, IDF, ["P1.O2"])
    )
    await _appliquer(
        api,
        b.objectif("c-corse", CALVI, CORSE, "P1.O1", True, []),
        b.objectif("c-corse", CALVI, CORSE, "P1.O3", False, []),
    )
    await _appliquer(
        api,
        b.projet("p-bzh", RENNES, BRETAGNE, "100000.00", ac="50000"),
        b.annee_hc("hc-bzh", RENNES, RENNES, BRETAGNE, 2026, ["1.0"]),
        b.depenses("hc-bzh", RENNES, RENNES, BRETAGNE, 2026, "50000.00"),
        b.annee_hc("hc-bzh", RENNES, RENNES, BRETAGNE, 2027, []),
        b.depenses("hc-bzh", RENNES, RENNES, BRETAGNE, 2027, "10.00"),
    )


async def test_enveloppe_quatre_chiffres_et_portee(api):
    r = await api.client.get(f"/v1/enveloppes/{BRETAGNE}", headers=ars(BRETAGNE))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "dispositif": "aap",
        "region": BRETAGNE,
        "libelle_region": "Bretagne",
        "alloue": "4631000.00",
        "engage": "100000.00",
        "consomme": "50000.00",
        "disponible": "4531000.00",
    }
    assert (await api.client.get(f"/v1/enveloppes/{BRETAGNE}", headers=ars(CORSE))).status_code == 404
    assert (await api.client.get(f"/v1/enveloppes/{BRETAGNE}", headers=DNS)).status_code == 200
    assert (
        await api.client.get(f"/v1/enveloppes/{BRETAGNE}", headers=etablissement(RENNES))
    ).status_code == 403
    toutes = (await api.client.get("/v1/enveloppes", headers=DNS)).json()
    assert len(toutes) == 18
    assert sum(D(e["alloue"]) for e in toutes) == D("87200000.00")
    assert [e["region"] for e in (await api.client.get("/v1/enveloppes", headers=ars(CORSE))).json()] == [
        CORSE
    ]
    ecritures = (await api.client.get(f"/v1/enveloppes/{BRETAGNE}/ecritures", headers=ars(BRETAGNE))).json()
    assert [e["nature"] for e in ecritures] == ["allocation", "engagement", "paiement"]
    assert ecritures[1]["projet_id"] == "p-bzh"
    assert ecritures[1]["decision_id"]  # each entry says its cause
    assert ecritures[2]["notification_id"]
    assert (await api.client.get(f"/v1/enveloppes/{BRETAGNE}/ecritures", headers=ars(IDF))).status_code == 404


async def _transferer(api, corps, *, cle: str | None = None) -> httpx.Response:
    """A DNS transfer by two persons (issue 10): dns-a proposes, dns-b confirms."""
    a = DNS_A if cle is None else {**DNS_A, "Idempotency-Key": cle}
    b = DNS_B if cle is None else {**DNS_B, "Idempotency-Key": cle}
    r = await api.client.post("/v1/enveloppes/transferts", headers=a, json=corps)
    assert r.status_code == 202, r.text
    return await api.client.post(f"/v1/propositions/{r.json()['proposition_id']}/confirmation", headers=b)


async def test_transfert_dns_audite(api):
    corps = {
        "source": {"region": CORSE},
        "destination": {"region": IDF},
        "montant": "56000.00",
        "motif": "Corse sous-consommée",
    }
    assert (
        await api.client.post("/v1/enveloppes/transferts", headers=ars(CORSE), json=corps)
    ).status_code == 403
    r = await _transferer(api, corps)
    assert r.status_code == 200, r.text
    ecritures = r.json()["ecritures"]
    transfert_id = r.json()["transfert_id"]
    assert ecritures["sortie"]["transfert_id"] == ecritures["entree"]["transfert_id"] == transfert_id
    corse = (await api.client.get(f"/v1/enveloppes/{CORSE}", headers=DNS)).json()
    assert corse["alloue"] == "400000.00"
    # Proposed and confirmed again with the same Idempotency-Key: the first answers, nothing moved twice.
    cent = {**corps, "montant": "100.00"}
    proposee = {**DNS_A, "Idempotency-Key": "transfert-corse-1"}
    premiere = await api.client.post("/v1/enveloppes/transferts", headers=proposee, json=cent)
    reproposee = await api.client.post("/v1/enveloppes/transferts", headers=proposee, json=cent)
    assert premiere.status_code == reproposee.status_code == 202
    assert reproposee.json() == premiere.json()
    assert reproposee.headers["Idempotent-Replayed"] == "true"
    confirmation = f"/v1/propositions/{premiere.json()['proposition_id']}/confirmation"
    confirmee = {**DNS_B, "Idempotency-Key": "transfert-corse-1"}
    premier = await api.client.post(confirmation, headers=confirmee)
    rejoue = await api.client.post(confirmation, headers=confirmee)
    assert premier.status_code == rejoue.status_code == 200
    assert rejoue.json() == premier.json()
    assert rejoue.headers["Idempotent-Replayed"] == "true"
    corse = (await api.client.get(f"/v1/enveloppes/{CORSE}", headers=DNS)).json()
    assert corse["alloue"] == "399900.00"
    # Towards another dispositif: an envelope opens there.
    r = await _transferer(
        api, {**corps, "destination": {"region": CORSE, "dispositif": "hospiconnect"}, "montant": "1000.00"}
    )
    assert r.status_code == 200, r.text
    hc = await api.client.get(f"/v1/enveloppes/{CORSE}", params={"dispositif": "hospiconnect"}, headers=DNS)
    assert hc.json()["alloue"] == "1000.00"
    for modif, champ in (
        ({"montant": "999999999.00"}, "montant"),
        ({"montant": "-1"}, "montant"),
        ({"source": {"region": "99"}}, "source.region"),
        ({"destination": {"region": IDF, "dispositif": "loto"}}, "destination.dispositif"),
    ):
        r = await api.client.post("/v1/enveloppes/transferts", headers=DNS_A, json={**corps, **modif})
        assert r.status_code == 422, r.text
        assert r.json()["champ"] == champ
    async with api.sessions() as s:
        audits = await s.scalar(
            text("SELECT count(*) FROM journal_audit WHERE action LIKE 'enveloppe_transfert%'")
        )
        propositions = await s.scalar(
            text("SELECT count(*) FROM journal_audit"
                 " WHERE action IN ('transfert_propose', 'transfert_confirme')")
        )
    assert audits == 6
    assert propositions == 6  # three proposals, three confirmations; the refused ones wrote nothing


async def test_financements_portee(api):
    r = await api.client.get("/v1/financements", params={"finess": CALVI}, headers=etablissement(CALVI))
    assert r.status_code == 200
    lignes = r.json()["items"]
    assert {(li["objectif"], li["nature"]) for li in lignes} == {
        ("P1.O1", "amorcage"),
        ("P1.O3", "amorcage"),
        ("P1.O1", "solde"),
        ("P1.O3", "reprise"),
    }
    o1 = oracle.forfait_phase1("18530", "P1.O1", "300000")
    assert next(li for li in lignes if li["nature"] == "solde")["montant"] == str(
        o1["forfait"] - o1["amorcage"]
    )
    assert (
        await api.client.get("/v1/financements", params={"finess": CALVI}, headers=etablissement(PARIS))
    ).status_code == 403
    assert (
        await api.client.get("/v1/financements", params={"region": CORSE}, headers=ars(IDF))
    ).status_code == 403
    idf = (await api.client.get("/v1/financements", headers=ars(IDF))).json()["items"]
    assert {li["region"] for li in idf} == {IDF}
    notification = lignes[0]["notification_id"]
    assert (await api.client.get(f"/v1/notifications/{notification}", headers=ars(IDF))).status_code == 404
    assert (
        await api.client.get(f"/v1/notifications/{notification}", headers=etablissement(PARIS))
    ).status_code == 404
    lue = (await api.client.get(f"/v1/notifications/{notification}", headers=ars(CORSE))).json()
    assert lue["decide_par"] == "instructeur"
    assert lue["decision_id"]
    assert lue["lignes"]
    assert (await api.client.get("/v1/aap/projets/p-bzh", headers=ars(CORSE))).status_code == 404
    projet = (await api.client.get("/v1/aap/projets/p-bzh", headers=etablissement(RENNES))).json()
    assert projet["montant_accorde"] == "100000.00"


async def test_hospiconnect_lectures(api):
    r = await api.client.get(
        "/v1/hospiconnect/montants", params={"finess": RENNES}, headers=etablissement(RENNES)
    )
    montants = {m["annee"]: m for m in r.json()}
    assert montants[2026]["montant"] == str(oracle.montant_hospiconnect(1000, ["1.0"], "50000")["montant"])
    assert montants[2027]["montant"] == "0.00"
    assert montants[2027]["regressions"] == ["1.0"]
    regressions = (await api.client.get("/v1/hospiconnect/regressions", headers=ars(BRETAGNE))).json()
    assert [(x["finess_ej"], x["annee"], x["objectifs_perdus"]) for x in regressions] == [
        (RENNES, 2027, ["1.0"])
    ]
    assert (await api.client.get("/v1/hospiconnect/regressions", headers=ars(CORSE))).json() == []


async def test_circulaire_csv_xlsx_s_additionne(api):
    r = await api.client.get("/v1/exports/circulaire", headers=ars(CORSE))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rangees = list(csv.DictReader(io.StringIO(r.text), delimiter=";"))
    calvi = next(x for x in rangees if x["finess"] == CALVI)
    o1, o3 = (oracle.forfait_phase1("18530", o, "300000") for o in ("P1.O1", "P1.O3"))
    assert D(calvi["amorcage"]) == o1["amorcage"] + o3["amorcage"]
    assert D(calvi["solde"]) == o1["forfait"] - o1["amorcage"]
    assert D(calvi["reprise"]) == o3["amorcage"]
    assert D(calvi["total"]) == o1["forfait"]  # reached: its forfait; missed: nothing kept
    assert calvi["objectifs"] == "P1.O1, P1.O3"
    assert rangees[-1]["region"] == "TOTAL région 94"
    assert (
        await api.client.get("/v1/exports/circulaire", params={"region": IDF}, headers=ars(CORSE))
    ).status_code == 404
    assert (await api.client.get("/v1/exports/circulaire", headers=etablissement(CALVI))).status_code == 403

    r = await api.client.get("/v1/exports/circulaire", params={"format": "xlsx"}, headers=DNS)
    assert r.status_code == 200
    feuille = load_workbook(io.BytesIO(r.content)).active
    lignes = list(feuille.iter_rows(values_only=True))
    entetes, corps = lignes[0], lignes[1:]
    i_total = entetes.index("total")
    detail = [x for x in corps if not str(x[0]).startswith("TOTAL")]
    national = next(x for x in corps if x[0] == "TOTAL NATIONAL")
    assert sum(D(str(x[i_total])) for x in detail) == D(str(national[i_total]))
    assert {x[0] for x in detail} == {CORSE, IDF, BRETAGNE}
    idf = next(x for x in detail if x[1] == PARIS)
    assert (
        D(str(idf[entetes.index("solde_prevu")]))
        == oracle.forfait_phase1("300000", "P1.O2", "300000")["solde"]
    )


async def test_decisions_et_montants_immuables(api):
    async with api.sessions() as s:
        for sql in (
            "UPDATE notification SET montant_net = 0",
            "DELETE FROM ligne_financement",
            "UPDATE ecriture_enveloppe SET montant = 1",
            "DELETE FROM decision_hospiconnect",
        ):
            with pytest.raises(Exception, match="immuable"):
                await s.execute(text(sql))
            await s.rollback()


@pytest.mark.parametrize(("chemin", "params", "champ"), [
    ("/v1/financements", {"finess": "350000001"}, "finess"),  # wrong check key
    ("/v1/notifications", {"finess": "2A0000001"}, "finess"),
    ("/v1/hospiconnect/montants", {"finess": "0A0000001"}, "finess"),  # not a FINESS character set
    ("/v1/aap/projets", {"finess": "35000000"}, "finess"),
    ("/v1/financements", {"region": "99"}, "region"),  # not one of the 18 regions
    ("/v1/hospiconnect/regressions", {"region": "05"}, "region"),
    ("/v1/exports/circulaire", {"region": "00"}, "region"),
    ("/v1/enveloppes/99", {}, "region"),
])
async def test_finess_et_region_verifies_a_l_entree(api, chemin, params, champ):
    # The shared kernel's types (hopen_common.finess, hopen_common.region): a mistyped scope is a
    # 422 naming the field, not an empty list or a 404.
    r = await api.client.get(chemin, params=params, headers=DNS)
    assert r.status_code == 422, r.text
    assert r.json()["champ"] == champ


async def _audit(api, *conditions: str, **params: object) -> list[dict[str, object]]:
    async with api.sessions() as s:
        return [dict(r._mapping) for r in await s.execute(text(
            "SELECT action, objet_type, objet_id, region, acteur, details, horodatage FROM journal_audit"
            f" WHERE {' AND '.join(conditions)} ORDER BY sequence"), params)]


async def test_chaque_montant_et_chaque_notification_audites_dans_leur_transaction(api):
    """Issue 10: every amount (financement line) is an audit row under its business key, and so is every
    notification, with the region of the dossier, written in the transaction that wrote them (the
    rows share that transaction's now())."""
    async with api.sessions() as s:
        lignes = [dict(r._mapping) for r in await s.execute(text(
            "SELECT l.cle_metier, l.version, l.montant, l.forfait, l.nature, l.region, l.notification_id"
            " FROM ligne_financement l ORDER BY l.id"))]
    assert len(lignes) >= 5  # Corse's amorçages, solde and reprise; IDF; Bretagne's AAP and HospiConnect
    montants = await _audit(api, "objet_type = 'ligne_financement'")
    assert len(montants) == len(lignes)
    notifications = {r["details"]["notification_id"]: r
                     for r in await _audit(api, "action LIKE 'notifier_%'")}
    for ligne in lignes:
        audit = [m for m in montants if m["objet_id"] == ligne["cle_metier"]
                 and m["details"]["version"] == ligne["version"]]
        assert len(audit) == 1, ligne
        (m,) = audit
        assert (m["action"], m["region"], m["acteur"]) == (f"montant_{ligne['nature']}", ligne["region"],
                                                            "financement")
        assert (D(m["details"]["montant"]), D(m["details"]["forfait"])) == (ligne["montant"],
                                                                              ligne["forfait"])
        assert m["details"]["notification_id"] == ligne["notification_id"]
        notification = notifications[ligne["notification_id"]]
        assert notification["region"] == ligne["region"]
        assert m["horodatage"] == notification["horodatage"]  # one transaction: one now()
    # The ARS of Corse reads the journal of its amounts through the API, Bretagne's are not its.
    cle = next(li["cle_metier"] for li in lignes if li["region"] == CORSE)
    r = await api.client.get("/v1/audit", params={"objet": cle}, headers=ars(CORSE))
    assert [x["action"] for x in r.json()["items"]] == ["montant_amorcage"], r.text
    bzh = next(li["cle_metier"] for li in lignes if li["region"] == BRETAGNE)
    assert (await api.client.get("/v1/audit", params={"objet": bzh}, headers=ars(CORSE))).json()["total"] == 0


async def test_chaque_export_audite(api):
    avant = len(await _audit(api, "action = 'exporter_circulaire'"))
    r = await api.client.get("/v1/exports/circulaire", headers=ars(CORSE, "agent-corse"))
    assert r.status_code == 200
    r = await api.client.get("/v1/exports/circulaire", params={"format": "xlsx"}, headers=DNS)
    assert r.status_code == 200
    # Refused exports read nothing: no row.
    assert (await api.client.get("/v1/exports/circulaire", params={"region": IDF},
                                 headers=ars(CORSE))).status_code == 404
    assert (await api.client.get("/v1/exports/circulaire", headers=etablissement(CALVI))).status_code == 403
    exports = (await _audit(api, "action = 'exporter_circulaire'"))[avant:]
    assert [(e["objet_id"], e["region"], e["acteur"], e["details"]["format"]) for e in exports] == [
        ("circulaire_94", CORSE, "agent-corse", "csv"), ("circulaire_national", None, "dns-test", "xlsx")]
    assert exports[0]["details"]["lignes"] >= 1
    rangees = list(csv.DictReader(io.StringIO(
        (await api.client.get("/v1/exports/circulaire", headers=ars(CORSE))).text), delimiter=";"))
    assert D(exports[0]["details"]["total"]) == D(rangees[-1]["total"])
