"""Phase 2 through the five running services, over the real Kafka broker.

HospiConnect: an establishment applies to the whole dispositif, deposits, its ARS validates; it sends
its 2026 evidence (the framing note of objective 1.0) and declares its eligible expenses; the ARS
decides which objectives the EJ reached; financement pays min(ceiling x rate, expenses), and again
when the declaration is corrected. AAP: the same establishment (its HospiConnect candidature is
validated, as the theme requires) submits a project, the ARS selects it within the forecast and the
envelope, financement engages the envelope and pays the first half, the attainment pays the second.

Expected amounts are computed here, independently, from annexes 2 and 3 of instruction DNS/2025/180.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest

from hopen_common.testing import RunningStack, fichiers, finalement, jeton
from hopen_common.testing.pieces import deposer_avec_pieces_sync
from hopen_common.testing.quatre_yeux import decider_a_deux_sync

pytestmark = pytest.mark.e2e

# CH de Sartène (2A, Corse, région 94): public EJ outside any GHT, one EG, 120 agents (SAE 2024).
SARTENE, SARTENE_EG = "2A0002606", "2A0002614"
CORSE, AUTRE_REGION = "94", "11"
ENVELOPPE_CORSE = Decimal("456000.00")  # annex 3: 456 k€


def plafond_annexe_2(effectifs: int) -> Decimal:
    """Annex 2: 6 600 € for 1 to 50 agents; 33 € per agent from the 51st to the 250th; 47 € from the
    251st to the 5 000th; 33 € from the 5 001st to the 10 000th; 32 € beyond."""
    if effectifs == 0:
        return Decimal(0)
    montant = Decimal(6600)
    for du, au, euros in ((51, 250, 33), (251, 5000, 47), (5001, 10000, 33), (10001, None, 32)):
        haut = effectifs if au is None else min(effectifs, au)
        if haut >= du:
            montant += (haut - du + 1) * euros
    return montant


TAUX_ANNEXE_2 = {1: Decimal("0.40"), 2: Decimal("0.52"), 3: Decimal("0.64"), 4: Decimal("0.76"),
                 5: Decimal("0.88"), 6: Decimal("1.00")}


def centimes(valeur: Fraction | Decimal) -> Decimal:
    f = Fraction(valeur)
    return (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(timeout=15) as c:
        yield c


def _attendu(r: httpx.Response, statut: int) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    return dict(r.json())


def _refus(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps = dict(r.json())
    assert corps.get("champ") == champ, corps
    return corps


@pytest.fixture(scope="module")
def candidature_hospiconnect(running_stack: RunningStack, client: httpx.Client) -> str:
    """Sartène applies to HospiConnect, deposits, and the ARS of Corse validates."""
    urls = running_stack.urls
    es = jeton("etablissement", finess=[SARTENE], sujet="dsi-sartene")
    ars = jeton("ars", region=CORSE, sujet="instructeur-corse")
    fiche = _attendu(client.get(f"{urls['referentiel']}/v1/etablissements/{SARTENE}", headers=es), 200)
    hc = fiche["dispositifs"]["hospiconnect"]
    assert hc["eligible"] is True
    assert hc["maille"]["finess"] == SARTENE

    def creer() -> dict[str, Any] | None:
        r = client.post(f"{urls['candidature']}/v1/candidatures", headers=es,
                        json={"dispositif": "hospiconnect", "finess": SARTENE})
        if r.status_code == 422 and ("inconnu" in r.text):
            return None  # the referentiel's events are still on their way
        return _attendu(r, 201)
    candidature = finalement(creer, en=60, quoi="establishment known to candidature")
    cid = str(candidature["id"])
    assert candidature["dispositif"] == "hospiconnect"
    assert candidature["objectifs"] == ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
    assert candidature["perimetre"] is None  # not a GHT support: the EJ itself is judged
    # Once for the whole dispositif.
    _refus(client.post(f"{urls['candidature']}/v1/candidatures", headers=es,
                       json={"dispositif": "hospiconnect", "finess": SARTENE}), 409, "finess")
    _attendu(deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/candidatures/{cid}", es), 200)
    finalement(lambda: client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=ars).is_success,
               quoi="dossier in instruction")
    _attendu(decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                         json={"decision": "validee", "motivation": "Candidature HospiConnect complète"}),
             201)
    return cid


def test_une_annee_hospiconnect(running_stack: RunningStack, client: httpx.Client,
                                candidature_hospiconnect: str) -> None:
    urls, cid = running_stack.urls, candidature_hospiconnect
    es = jeton("etablissement", finess=[SARTENE], sujet="dsi-sartene")
    ars = jeton("ars", region=CORSE, sujet="instructeur-corse")
    effectifs = _attendu(client.get(f"{urls['referentiel']}/v1/etablissements/{SARTENE}", headers=es),
                         200)["effectifs"]
    assert effectifs == 120

    # 2026 evidence: 1.0 is the only objective with a 2026 target (annex 1), proven by a document.
    # The document is a piece uploaded on the candidature, then named by the evidence (issue 8).
    note = fichiers.pdf("note de cadrage HospiConnect 2026, CH de Sartene")
    piece = _attendu(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/pieces", headers=es,
                                 data={"type": "HC.1.0.2026"},
                                 files={"fichier": ("note-cadrage-2026.pdf", note, "application/pdf")}), 201)
    assert piece["sha256"] == hashlib.sha256(note).hexdigest()
    preuve = {"annee": 2026, "objectif": "1.0", "piece_id": piece["id"]}
    _refus(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/preuves", headers=es,
                       json={**preuve, "objectif": "1.1"}), 422, "objectif")
    _attendu(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/preuves", headers=es, json=preuve),
             201)

    # Eligible expenses declared for 2026, below the ceiling x rate at first.
    premiere = _attendu(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/depenses", headers=es,
                                    json={"annee": 2026, "finess_ej": SARTENE, "montant": "2000.00"}), 201)
    _refus(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/depenses", headers=es,
                       json={"annee": 2026, "montant": 2000.5}), 422, "montant")

    def preuve_recue() -> dict[str, Any] | None:
        annee = client.get(f"{urls['instruction']}/v1/dossiers/{cid}/hospiconnect/2026", headers=ars).json()
        (ej,) = annee["entites"]
        return ej if ej["objectifs"][0]["preuve_recue"] else None
    ej = finalement(preuve_recue, quoi="evidence in instruction")
    assert ej["finess_ej"] == SARTENE
    assert [o["objectif"] for o in ej["objectifs"]] == ["1.0"]
    assert ej["objectifs"][0]["documents"][0]["nom"] == "note-cadrage-2026.pdf"
    assert ej["objectifs"][0]["documents"][0]["piece_id"] == piece["id"]
    # Another region's ARS does not see the file at all.
    assert client.get(f"{urls['instruction']}/v1/dossiers/{cid}/hospiconnect/2026",
                      headers=jeton("ars", region=AUTRE_REGION)).status_code == 404

    decision_url = f"{urls['instruction']}/v1/dossiers/{cid}/hospiconnect/2026/decision"
    _refus(decider_a_deux_sync(client, decision_url, headers=ars, json={
        "objectifs_atteints": ["1.0", "2.1"], "motivation": "essai"}), 422, "objectifs_atteints")
    decision = _attendu(decider_a_deux_sync(client, decision_url, headers=ars, json={
        "objectifs_atteints": ["1.0"], "motivation": "Note de cadrage et indicateurs de maturité reçus"}),
        201)
    assert (decision["proposee_par"], decision["decide_par"]) == ("instructeur-corse", "valideur-94")
    _refus(decider_a_deux_sync(client, decision_url,
                               headers=ars, json={"objectifs_atteints": ["1.0"], "motivation": "bis"}),
           409, "remplace")

    # Independent computation: ceiling(120) x 40 % (one objective), capped by the expenses.
    plafond = plafond_annexe_2(120)
    assert plafond == Decimal("8910")
    theorique = centimes(plafond * TAUX_ANNEXE_2[1])
    assert theorique == Decimal("3564.00")

    def montant(rang: int) -> dict[str, Any] | None:
        lignes = client.get(f"{urls['financement']}/v1/hospiconnect/montants",
                            params={"finess": SARTENE, "annee": 2026}, headers=es).json()["items"]
        return next((m for m in lignes if m["rang"] == rang), None)
    m1 = finalement(lambda: montant(1), en=60, quoi="HospiConnect 2026 amount")
    assert m1["plafond"] == str(centimes(plafond))
    assert m1["montant_theorique"] == str(theorique)
    assert m1["montant"] == str(min(theorique, Decimal("2000.00")))
    assert m1["decision_id"] == decision["id"]

    # The establishment corrects its declaration: the amount is decided again, the first superseded.
    _attendu(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/depenses", headers=es, json={
        "annee": 2026, "montant": "5000.00", "remplace": premiere["id"]}), 201)
    _refus(client.post(f"{urls['candidature']}/v1/candidatures/{cid}/depenses", headers=es, json={
        "annee": 2026, "montant": "6000.00", "remplace": premiere["id"]}), 422, "remplace")
    m2 = finalement(lambda: montant(2), en=60, quoi="corrected HospiConnect 2026 amount")
    assert m2["montant"] == str(min(theorique, Decimal("5000.00"))) == "3564.00"
    lignes = client.get(f"{urls['financement']}/v1/financements", headers=es,
                        params={"finess": SARTENE, "dispositif": "hospiconnect"}).json()["items"]
    assert [(li["nature"], li["montant"]) for li in lignes] == [("hospiconnect", "3564.00")]


def _importer_ac_2024(client: httpx.Client, url: str, finess: str, ac: str) -> None:
    """The DNS imports the 2024 PMSI activity (the demo data only carries 2022's): the referentiel
    recomputes the fiche and publishes it; the AAP maximum grows with the participants' AC 2024."""
    colonnes = ("finess_pmsi;annee;activite_combinee;journees_mco;seances_mco;hdj_chirurgie_ambulatoire;"
                "hdj_autres;journees_smr;journees_psy;journees_had;journees_usld")
    contenu = f"{colonnes}\n{finess};2024;{ac};;;;;;;;\n".encode()
    r = client.post(f"{url}/v1/imports/base-eligible", headers=jeton("dns", sujet="dns"),
                    files={"fichier": ("ac_2024.csv", contenu, "text/csv")},
                    data={"type_donnees": "activite_combinee"})
    assert r.status_code == 201, r.text


def test_un_projet_aap(running_stack: RunningStack, client: httpx.Client,
                       candidature_hospiconnect: str) -> None:
    urls = running_stack.urls
    es = jeton("etablissement", finess=[SARTENE], sujet="dsi-sartene")
    ars = jeton("ars", region=CORSE, sujet="instructeur-corse")
    _importer_ac_2024(client, urls["referentiel"], SARTENE, "5120")

    corps = {
        "finess": SARTENE, "theme": "desengorgement_urgences", "titre": "Régulation des urgences de Sartène",
        "description": "Tableau de bord des lits d'aval et orientation des patients dès l'accueil.",
        "objectifs": ["Délai d'attente médian aux urgences < 2 h", "Taux de patients orientés dès l'accueil"],
        "perimetre": [SARTENE_EG],
        "equipe": [{"nom": "Dr A. Santoni", "fonction": "cheffe des urgences", "responsable": True},
                   {"nom": "M. B. Leca", "fonction": "DSI"},
                   {"nom": "Mme C. Pietri", "fonction": "cadre de santé"}],
        "depenses_prevues": [{"annee": 2026, "montant": "60000.00"}, {"annee": 2027, "montant": "40000.00"}],
    }

    def creer() -> dict[str, Any] | None:
        r = client.post(f"{urls['candidature']}/v1/projets", headers=es, json=corps)
        if r.status_code == 422 and "HospiConnect validée" in r.text:
            return None  # the ARS validation is on its way to candidature
        return _attendu(r, 201)
    projet = finalement(creer, en=60, quoi="HospiConnect validation known to candidature")
    pid = projet["id"]
    assert projet["participants"] == [SARTENE]
    assert projet["depenses_prevues_total"] == "100000.00"
    # A partner letter: a piece of the project, then joined to it.
    lettre = _attendu(client.post(f"{urls['candidature']}/v1/projets/{pid}/pieces", headers=es,
                                  data={"type": "AAP.LETTRE"},
                                  files={"fichier": ("engagement.pdf", fichiers.pdf("lettre"),
                                                     "application/pdf")}), 201)
    _attendu(client.post(f"{urls['candidature']}/v1/projets/{pid}/lettres-partenaires", headers=es,
                         json={"partenaire": "Éditeur DPI", "piece_id": lettre["id"]}), 201)
    _attendu(deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/projets/{pid}", es), 200)
    finalement(lambda: client.get(f"{urls['instruction']}/v1/projets/{pid}", headers=ars).is_success,
               quoi="project in instruction")
    assert client.get(f"{urls['instruction']}/v1/projets/{pid}",
                      headers=jeton("ars", region=AUTRE_REGION)).status_code == 404

    # What the ARS must respect: the forecast, and the envelope as financement publishes it.
    enveloppe = _attendu(client.get(f"{urls['instruction']}/v1/enveloppes/{CORSE}", headers=ars), 200)
    financement = _attendu(client.get(f"{urls['financement']}/v1/enveloppes/{CORSE}", headers=ars), 200)
    assert Decimal(enveloppe["disponible"]) == Decimal(financement["disponible"])
    assert Decimal(financement["alloue"]) == ENVELOPPE_CORSE
    selection = f"{urls['instruction']}/v1/projets/{pid}/selection"
    _refus(decider_a_deux_sync(client, selection, headers=ars, json={
        "decision": "selectionne", "montant_accorde": "100000.01", "motivation": "au-delà du prévisionnel"}),
        422, "montant_accorde")

    # Annex 3 (maximum, provisional parameters of ADR 0021): AC 5 120 on the first segment
    # (0 -> 50 000 €, 22 500 -> 150 000 €), two objectives: coefficient 0.80.
    maximum = centimes((Fraction(50000) + Fraction(100000) * Fraction(5120, 22500)) * Fraction("0.80"))
    accorde = Decimal("50000.00")
    assert accorde <= maximum

    def au_dela_du_maximum() -> dict[str, Any] | None:
        r = decider_a_deux_sync(client, selection, headers=ars, json={
            "decision": "selectionne", "montant_accorde": str(maximum + Decimal("0.01")),
            "motivation": "essai"})
        if r.status_code == 422 and str(r.json().get("champ")).startswith("participants"):
            return None  # the referentiel's new fiche is on its way to instruction
        return _refus(r, 422, "montant_accorde")
    refus = finalement(au_dela_du_maximum, en=60, quoi="AC 2024 in instruction")
    assert "maximum théorique" in refus["detail"]

    def selectionner() -> dict[str, Any] | None:
        r = decider_a_deux_sync(client, selection, headers=ars, json={
            "decision": "selectionne", "montant_accorde": str(accorde),
            "motivation": "Projet mutualisable, équipe pluridisciplinaire"})
        if r.status_code == 422 and str(r.json().get("champ")).startswith("participants"):
            return None  # the referentiel's new fiche is on its way to instruction
        return _attendu(r, 201)
    decision = finalement(selectionner, en=60, quoi="AC 2024 known to instruction")
    # Instruction shows, and enforces, the same maximum as the one computed here.
    assert client.get(f"{urls['instruction']}/v1/projets/{pid}", headers=ars).json()["maximum_theorique"] \
        == str(maximum)
    assert decision["montant_accorde"] == "50000.00"
    assert decision["elements"]["participants"] == [{"finess": SARTENE, "activite_combinee_2024": "5120.00"}]

    moitie = centimes(accorde * Decimal("0.50"))

    def engage() -> dict[str, Any] | None:
        e = client.get(f"{urls['financement']}/v1/enveloppes/{CORSE}", headers=ars).json()
        return e if Decimal(e["engage"]) >= Decimal(financement["engage"]) + accorde else None
    apres = finalement(engage, en=60, quoi="envelope engaged")
    assert Decimal(apres["engage"]) == Decimal(financement["engage"]) + accorde
    assert Decimal(apres["consomme"]) == Decimal(financement["consomme"]) + moitie
    # Instruction's copy follows financement's ledger; nothing is left in flight.
    copie = finalement(lambda: (lambda e: e if Decimal(e["engage"]) == Decimal(apres["engage"]) else None)(
        client.get(f"{urls['instruction']}/v1/enveloppes/{CORSE}", headers=ars).json()), quoi="copy updated")
    assert copie["en_attente"] == "0.00"
    assert copie["disponible_pour_selection"] == apres["disponible"]

    def lignes(nombre: int) -> list[dict[str, Any]] | None:
        resultat = client.get(f"{urls['financement']}/v1/financements", headers=es,
                              params={"finess": SARTENE, "dispositif": "aap"}).json()["items"]
        return resultat if len(resultat) >= nombre else None
    assert [(li["nature"], li["montant"]) for li in finalement(lambda: lignes(1), en=60, quoi="first half")] \
        == [("aap_acceptation", str(moitie))]

    _attendu(decider_a_deux_sync(client, f"{urls['instruction']}/v1/projets/{pid}/atteinte", headers=ars,
                         json={"atteint": True, "motivation": "Objectifs de juin 2027 atteints"}), 201)
    _refus(decider_a_deux_sync(client, f"{urls['instruction']}/v1/projets/{pid}/atteinte", headers=ars,
                       json={"atteint": False, "motivation": "deux fois"}), 409, "remplace")
    fin = finalement(lambda: lignes(2), en=60, quoi="second half")
    assert sorted((li["nature"], li["montant"]) for li in fin) == [
        ("aap_acceptation", str(moitie)), ("aap_atteinte", str(accorde - moitie))]
    final = client.get(f"{urls['financement']}/v1/enveloppes/{CORSE}", headers=ars).json()
    assert Decimal(final["consomme"]) == Decimal(financement["consomme"]) + accorde

    # The establishment sees the ARS decisions on what it submitted.
    def decisions_vues() -> list[dict[str, Any]] | None:
        vues = client.get(f"{urls['candidature']}/v1/projets/{pid}", headers=es).json()["decisions_ars"]
        return vues if len(vues) == 2 else None
    vues = finalement(decisions_vues, quoi="ARS decisions in candidature")
    assert sorted((d["objet"], d["decision"], d["montant_accorde"]) for d in vues) == [
        ("atteinte", "atteint", None), ("selection", "selectionne", str(accorde))]
