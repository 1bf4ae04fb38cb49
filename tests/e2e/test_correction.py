"""A correction round through the running services over the real Kafka broker (issue 9): the GHT
support deposits, its ARS takes the dossier into instruction and asks for a newer SDSI (a piece and a
field), the establishment sees the request, corrects only that and re-deposits, the ARS sees the diff
and validates, and the establishment sees its candidature validated with the ARS's motivation; the
establishment's contact address receives the correction request and the decision by e-mail (the real
SMTP server of the session)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hopen_common.testing import RunningStack, finalement, jeton
from hopen_common.testing.pieces import PDF_MINIMAL, deposer_avec_pieces_sync
from hopen_common.testing.quatre_yeux import decider_a_deux_sync

pytestmark = pytest.mark.e2e

# CHU Dijon (21, Bourgogne-Franche-Comté, région 27): support of GHT BFC-03 (demo referentiel).
DIJON, REGION_BFC = "210780581", "27"
CRITERES = {"dsi_ght": {"nom": "M. Roux", "valide": True}, "projet_medical_valide": True,
            "sdsi_date": (date.today() - timedelta(days=700)).isoformat(), "convergence": "DPI commun",
            "referentiel_identite_unique": True, "preuve_capacite": "convention"}


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(timeout=15) as c:
        yield c


def test_tour_de_correction(running_stack: RunningStack, client: httpx.Client) -> None:
    urls = running_stack.urls
    es = jeton("etablissement", finess=[DIJON], sujet="dsi-dijon")
    ars = jeton("ars", region=REGION_BFC, sujet="instructeur-bfc")

    def creer() -> dict[str, Any] | None:
        r = client.post(f"{urls['candidature']}/v1/candidatures", headers=es, json={
            "dispositif": "phase1", "finess": DIJON, "objectifs": ["P1.O1"], "criteres_ght": CRITERES})
        if r.status_code == 422 and "inconnu du référentiel" in r.text:
            return None  # the referentiel's events are still on their way
        assert r.status_code == 201, r.text
        return dict(r.json())
    cid = finalement(creer, en=60, quoi="establishment known to candidature")["id"]
    adresse = "dsi.e2e@chu-dijon.test"
    r = client.put(f"{urls['candidature']}/v1/etablissements/{DIJON}/contact", headers=es,
                   json={"courriel": adresse})
    assert r.status_code == 200, r.text
    smtp = running_stack.smtp
    assert smtp is not None

    def courriel(sujet: str) -> Any:
        return next((m for m in smtp.messages() if m["To"] == adresse and sujet in m["Subject"]), None)
    candidature = f"{urls['candidature']}/v1/candidatures/{cid}"
    r = deposer_avec_pieces_sync(client, candidature, es)
    assert r.status_code == 200, r.text
    dossier = f"{urls['instruction']}/v1/dossiers/{cid}"
    finalement(lambda: client.get(dossier, headers=ars).is_success, en=60, quoi="dossier in instruction")

    r = client.post(f"{dossier}/instruction", headers=ars, json={})
    assert r.status_code == 200, r.text
    r = client.post(f"{dossier}/corrections", headers=ars, json={
        "pieces": [{"type": "P1.GHT.SDSI"}], "champs": ["criteres_ght.sdsi_date"],
        "motivation": "SDSI de bientôt deux ans : joindre la mise à jour",
        "echeance": (date.today() + timedelta(days=15)).isoformat()})
    assert r.status_code == 201, r.text
    correction = r.json()["id"]

    def demandee() -> dict[str, Any] | None:
        vue = client.get(candidature, headers=es).json()
        return vue if vue["statut"] == "correction_demandee" else None
    vue = finalement(demandee, en=60, quoi="the establishment sees the request")
    (demande,) = vue["demandes_correction"]
    mail = finalement(lambda: courriel(f"corrections demandées sur votre dossier {cid}"), en=60,
                      quoi="the correction request by e-mail")
    assert "Champs à corriger : criteres_ght.sdsi_date" in mail.get_content()
    assert "Pièces à déposer à nouveau : P1.GHT.SDSI" in mail.get_content()
    assert (demande["correction_id"], demande["champs"], demande["en_retard"]) == (
        correction, ["criteres_ght.sdsi_date"], False)

    nouvelle_date = (date.today() - timedelta(days=30)).isoformat()
    r = client.patch(f"{candidature}/champs", headers=es, json={"champs": {"criteres_ght.convergence": "x"}})
    assert (r.status_code, r.json()["champ"]) == (422, "criteres_ght.convergence")  # not asked for
    r = client.patch(f"{candidature}/champs", headers=es,
                     json={"champs": {"criteres_ght.sdsi_date": nouvelle_date}})
    assert r.status_code == 200, r.text
    r = client.post(f"{candidature}/pieces", headers=es, data={"type": "P1.GHT.SDSI"},
                    files={"fichier": ("sdsi-2026.pdf", PDF_MINIMAL, "application/pdf")})
    assert r.status_code == 201, r.text
    nouvelle = r.json()
    r = client.post(f"{candidature}/redepot", headers=es)
    assert (r.status_code, r.json()["statut"]) == (200, "deposee"), r.text

    diff_url = f"{dossier}/corrections/{correction}/diff"
    diff = finalement(lambda: (d := client.get(diff_url, headers=ars).json())["correction"]["repondue_le"]
                      and d, en=60, quoi="the ARS sees the answer")
    (piece,) = diff["pieces"]
    assert (piece["avant"]["version"], piece["apres"]["version"], piece["apres"]["sha256"]) == (
        1, 2, nouvelle["sha256"])
    assert diff["champs"] == [{"champ": "criteres_ght.sdsi_date", "avant": CRITERES["sdsi_date"],
                               "apres": nouvelle_date}]
    detail = client.get(dossier, headers=ars).json()
    assert (detail["statut"], detail["corrections_ouvertes"]) == ("deposee", 0)

    r = decider_a_deux_sync(client, f"{dossier}/decision", headers=ars,
                    json={"decision": "validee", "motivation": "SDSI à jour, critères de l'annexe 4 remplis"})
    assert r.status_code == 201, r.text

    def validee() -> dict[str, Any] | None:
        vue = client.get(candidature, headers=es).json()
        return vue if vue["statut"] == "validee" and vue["decisions_ars"] else None
    vue = finalement(validee, en=60, quoi="the establishment sees the decision")
    assert [(d["decision"], d["motivation"]) for d in vue["decisions_ars"]] == [
        ("validee", "SDSI à jour, critères de l'annexe 4 remplis")]
    assert [t["vers"] for t in vue["historique"]] == ["en_instruction", "correction_demandee"]
    mail = finalement(lambda: courriel("est validée"), en=60, quoi="the decision by e-mail")
    assert "SDSI à jour, critères de l'annexe 4 remplis" in mail.get_content()
