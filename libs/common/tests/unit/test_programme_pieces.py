"""Pieces required per dossier (issue 8 item 4): the data file loads and is checked, every variant of
annex 1 and annex 4 of DNS/2024/123, of HospiConnect and of the AAP gives the expected requirements,
"one of" is met by any, the commitment letter stays "to regularise", and the GHT criteria."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from hopen_common.programme.criteres_ght import CriteresGht, criteres_invalides, verifier_saisie
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import DonneesProgrammeInvalides, lire_donnees, versions_disponibles
from hopen_common.programme.pieces import (
    DossierVu,
    PieceRecue,
    charger_programme_pieces,
    checklist,
    construire_programme_pieces,
    exigences,
    formats_acceptes,
    manquantes,
    types_de_pieces,
)

P = charger_programme_pieces("2026.1")
A, B, C = "520780032", "520780057", "210780581"


def test_derniere_version_et_cache() -> None:
    assert charger_programme_pieces() is charger_programme_pieces(versions_disponibles("pieces")[-1])
    assert versions_disponibles("pieces") == ["2026.1"]


def test_types_par_dispositif() -> None:
    assert types_de_pieces("phase1", P) == {
        "P1.P1", "P1.P2", "P1.P3", "P1.P4", "P1.GHT.CONVENTION", "P1.GHT.COSTRAT", "P1.GHT.MANDAT",
        "P1.GHT.ENGAGEMENT", "P1.GHT.DSI", "P1.GHT.PROJET_MEDICAL", "P1.GHT.SDSI"}
    assert types_de_pieces("aap", P) == {"AAP.EQUIPE", "AAP.LETTRE", "AAP.VALIDATION_GHT", "AAP.SDSI_GHT"}
    hc = types_de_pieces("hospiconnect", P)
    assert {"HC.ADM.CANDIDATURE", "HC.ADM.GHT.CONVENTION", "HC.ADM.GHT.DECISION"} <= hc
    assert types_de_pieces("inconnu", P) == frozenset()
    assert "application/pdf" in formats_acceptes("P1.P1", P)
    assert "image/png" not in formats_acceptes("P1.P1", P)
    with pytest.raises(RegleMetierError) as exc:
        formats_acceptes("P1.P9", P)
    assert exc.value.champ == "type"


def test_preuves_hospiconnect_suivent_les_cibles_du_programme() -> None:
    """One evidence type per (document objective, year with a target) of the HospiConnect data."""
    hc = charger_programme_hospiconnect("2026.1")
    attendus = {f"HC.{o.id}.{a}" for o in hc.objectifs.values() if o.preuve == "document" for a in o.cibles}
    preuves = {t.code for t in P.types.values() if t.objectif is not None}
    assert preuves == attendus
    assert all(P.types[c].objectif in {"1.0", "1.1", "1.2", "1.3", "1.4"} for c in preuves)


def _codes(d: DossierVu, annee: int | None = None) -> list[tuple[str, str | None, tuple[str, ...]]]:
    return [(e.code, e.finess_ej, e.types) for e in exigences(d, P, annee=annee)]


CAPACITE = ("P1.GHT.CONVENTION", "P1.GHT.COSTRAT", "P1.GHT.ENGAGEMENT")
GHT_COMMUN = [("P1.GHT.DSI", None, ("P1.GHT.DSI",)),
              ("P1.GHT.PROJET_MEDICAL", None, ("P1.GHT.PROJET_MEDICAL",)),
              ("P1.GHT.SDSI", None, ("P1.GHT.SDSI",))]


@pytest.mark.parametrize(("dossier", "attendu"), [
    pytest.param(DossierVu("phase1"), [("P1.P1", None, ("P1.P1",)), ("P1.P2", None, ("P1.P2",)),
                                       ("P1.P3", None, ("P1.P3",)), ("P1.P4", None, ("P1.P4",))],
                 id="phase1-hors-ght"),
    pytest.param(DossierVu("phase1", membres_ght=(B, A), referentiel_identite_unique=True),
                 [("P1.P1", None, ("P1.P1",)), ("P1.P2", None, ("P1.P2",)), ("P1.P3", None, ("P1.P3",)),
                  ("P1.P4", None, ("P1.P4",)), ("P1.GHT.CAPACITE", None, CAPACITE), *GHT_COMMUN],
                 id="phase1-ght-referentiel-unique-sans-choix"),
    pytest.param(DossierVu("phase1", membres_ght=(B, A), referentiel_identite_unique=False,
                           preuve_capacite="costrat"),
                 [("P1.P1", None, ("P1.P1",)), ("P1.P2", None, ("P1.P2",)), ("P1.P3", A, ("P1.P3",)),
                  ("P1.P3", B, ("P1.P3",)), ("P1.P4", None, ("P1.P4",)),
                  ("P1.GHT.CAPACITE", None, ("P1.GHT.COSTRAT",)), *GHT_COMMUN],
                 id="phase1-ght-une-procedure-par-ej"),
    pytest.param(DossierVu("phase1", membres_ght=(A,), preuve_capacite="convention"),
                 [("P1.P1", None, ("P1.P1",)), ("P1.P2", None, ("P1.P2",)), ("P1.P3", A, ("P1.P3",)),
                  ("P1.P4", None, ("P1.P4",)), ("P1.GHT.CAPACITE", None, ("P1.GHT.CONVENTION",)),
                  *GHT_COMMUN],
                 id="phase1-ght-referentiel-non-dit-une-par-ej"),
    pytest.param(DossierVu("hospiconnect"), [("HC.ADM.CANDIDATURE", None, ("HC.ADM.CANDIDATURE",))],
                 id="hospiconnect-hors-ght"),
    pytest.param(DossierVu("hospiconnect", membres_ght=(A, B)),
                 [("HC.ADM.CANDIDATURE", None, ("HC.ADM.CANDIDATURE",)),
                  ("HC.ADM.GHT", None, ("HC.ADM.GHT.CONVENTION", "HC.ADM.GHT.DECISION"))],
                 id="hospiconnect-ght"),
    pytest.param(DossierVu("aap"), [("AAP.EQUIPE", None, ("AAP.EQUIPE",))], id="aap-seul"),
    pytest.param(DossierVu("aap", lettres_partenaires=True, participants_publics_ght=(C, A)),
                 [("AAP.EQUIPE", None, ("AAP.EQUIPE",)), ("AAP.LETTRE", None, ("AAP.LETTRE",)),
                  ("AAP.VALIDATION_GHT", C, ("AAP.VALIDATION_GHT",)),
                  ("AAP.VALIDATION_GHT", A, ("AAP.VALIDATION_GHT",))],
                 id="aap-lettres-et-membres-publics-de-ght"),
])
def test_exigences_par_variante(dossier: DossierVu, attendu: list[Any]) -> None:
    assert _codes(dossier) == attendu


@pytest.mark.parametrize(("dossier", "annee", "attendu"), [
    (DossierVu("hospiconnect"), 2026, ["HC.ADM.CANDIDATURE", ("HC.1.0.2026", None)]),
    (DossierVu("hospiconnect", membres_ght=(A,)), 2026,
     ["HC.ADM.CANDIDATURE", "HC.ADM.GHT", ("HC.1.0.2026", A)]),
    (DossierVu("hospiconnect"), 2027, ["HC.ADM.CANDIDATURE", *[(f"HC.1.{i}.2027", None) for i in range(5)]]),
    (DossierVu("phase1"), 2027, ["P1.P1", "P1.P2", "P1.P3", "P1.P4"]),  # a year adds nothing to phase 1
])
def test_preuves_d_une_annee(dossier: DossierVu, annee: int, attendu: list[Any]) -> None:
    obtenu = [e.code if e.annee is None else (e.code, e.finess_ej)
              for e in exigences(dossier, P, annee=annee)]
    assert obtenu == attendu


def test_engagement_a_regulariser() -> None:
    ex = exigences(DossierVu("phase1", membres_ght=(A,), preuve_capacite="engagement"), P)
    capacite = next(e for e in ex if e.code == "P1.GHT.CAPACITE")
    assert capacite.types == ("P1.GHT.ENGAGEMENT",)
    assert set(capacite.regularisee_par) == {"P1.GHT.COSTRAT", "P1.GHT.CONVENTION"}


@pytest.mark.parametrize(("deposees", "manque"), [
    ([], ["P1.P1", "P1.P2", ("P1.P3", A), ("P1.P3", B), "P1.P4", "P1.GHT.CAPACITE", "P1.GHT.DSI",
          "P1.GHT.PROJET_MEDICAL", "P1.GHT.SDSI"]),
    # "one of": any capacity proof; P1.P3 per EJ: the EJ named; a dossier-level piece names no EJ.
    ([("P1.P1", None), ("P1.P2", None), ("P1.P3", A), ("P1.P4", None), ("P1.GHT.COSTRAT", None),
      ("P1.GHT.DSI", None), ("P1.GHT.PROJET_MEDICAL", None), ("P1.GHT.SDSI", None)], [("P1.P3", B)]),
    ([("P1.P1", A), ("P1.P2", None), ("P1.P3", A), ("P1.P3", B), ("P1.P4", None),
      ("P1.GHT.ENGAGEMENT", None), ("P1.GHT.DSI", None), ("P1.GHT.PROJET_MEDICAL", None),
      ("P1.GHT.SDSI", None)], ["P1.P1"]),
    ([("P1.P1", None), ("P1.P2", None), ("P1.P3", A), ("P1.P3", B), ("P1.P4", None),
      ("P1.GHT.CONVENTION", None), ("P1.GHT.DSI", None), ("P1.GHT.PROJET_MEDICAL", None),
      ("P1.GHT.SDSI", None), ("P1.GHT.MANDAT", None)], []),
])
def test_manquantes(deposees: list[tuple[str, str | None]], manque: list[Any]) -> None:
    ex = exigences(DossierVu("phase1", membres_ght=(A, B), referentiel_identite_unique=False), P)
    obtenu = [m.code if m.finess_ej is None else (m.code, m.finess_ej) for m in manquantes(ex, deposees)]
    assert obtenu == manque


def test_engagement_choisi_regularise_par_le_costrat() -> None:
    ex = [e for e in exigences(DossierVu("phase1", membres_ght=(A,), preuve_capacite="engagement"), P)
          if e.code == "P1.GHT.CAPACITE"]
    assert [m.code for m in manquantes(ex, [("P1.GHT.CONVENTION", A)])] == ["P1.GHT.CAPACITE"]
    assert manquantes(ex, [("P1.GHT.ENGAGEMENT", None)]) == []
    assert manquantes(ex, [("P1.GHT.COSTRAT", None)]) == []  # regularised before the deposit


def _piece(type_: str, version: int = 1, ej: str | None = None) -> PieceRecue:
    return PieceRecue(type_, ej, f"p-{type_}-{version}", version, "ab" * 32, f"{type_}.pdf",
                      datetime(2024, 9, version, tzinfo=UTC))


@pytest.mark.parametrize(("pieces", "aujourd_hui", "etat", "version", "en_retard"), [
    ([], date(2024, 10, 1), "manquante", None, False),
    ([_piece("P1.GHT.ENGAGEMENT")], date(2024, 12, 15), "a_regulariser", 1, False),  # due day included
    ([_piece("P1.GHT.ENGAGEMENT")], date(2024, 12, 16), "a_regulariser", 1, True),
    ([_piece("P1.GHT.ENGAGEMENT"), _piece("P1.GHT.COSTRAT", 2)], date(2025, 1, 10), "fournie", 2, False),
])
def test_checklist_lettre_d_engagement(pieces: list[PieceRecue], aujourd_hui: date, etat: str,
                                       version: int | None, en_retard: bool) -> None:
    ex = [e for e in exigences(DossierVu("phase1", membres_ght=(A,), preuve_capacite="engagement"), P)
          if e.code == "P1.GHT.CAPACITE"]
    [ligne] = checklist(ex, pieces, a_regulariser_le=date(2024, 12, 15), aujourd_hui=aujourd_hui)
    assert (ligne.etat, ligne.en_retard) == (etat, en_retard)
    assert (ligne.piece.version if ligne.piece else None) == version
    assert ligne.echeance == (date(2024, 12, 15) if etat == "a_regulariser" else None)


def test_checklist_derniere_version_par_type_et_ej() -> None:
    ex = exigences(DossierVu("phase1", membres_ght=(A, B), referentiel_identite_unique=False), P)
    pieces = [_piece("P1.P1", 1), _piece("P1.P1", 3), _piece("P1.P1", 2), _piece("P1.P3", 1, A),
              _piece("P1.P3", 1, "999999999")]
    lignes = {(ligne.code, ligne.finess_ej): ligne for ligne in
              checklist(ex, pieces, a_regulariser_le=None, aujourd_hui=date(2024, 10, 1))}
    assert lignes[("P1.P1", None)].etat == "fournie"
    assert lignes[("P1.P1", None)].piece.version == 3  # type: ignore[union-attr]
    assert lignes[("P1.P3", A)].etat == "fournie"
    assert lignes[("P1.P3", B)].etat == "manquante"
    assert lignes[("P1.GHT.CAPACITE", None)].etat == "manquante"


# --- the data file's checks --------------------------------------------------------------------

def _casse(modifier: Any) -> dict[str, Any]:
    donnees = copy.deepcopy(lire_donnees("pieces", "2026.1"))
    modifier(donnees)
    return donnees


def _exigence(d: dict[str, Any], code: str, condition: str | None = None) -> dict[str, Any]:
    return next(e for e in d["exigences"] if e["code"] == code and condition in (None, e["condition"]))


@pytest.mark.parametrize(("modifier", "extrait"), [
    (lambda d: d["types"].append(dict(d["types"][0])), "en double"),
    (lambda d: d["types"][0].update(code="HC.P1"), "commence par P1."),
    (lambda d: d["types"][0].update(formats=["video"]), "formats"),
    (lambda d: d["types"][0].update(dispositif="phase3"), "dispositif"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(condition="ght_partout"), "condition inconnue"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(niveau="ej"), "niveau ej"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(types=["P1.P9"]), "type P1.P9 inconnu"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(types=["AAP.EQUIPE"]), "inconnu pour phase1"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(condition="hors_ght"), "en double"),
    (lambda d: _exigence(d, "P1.P1", "ght").update(condition="toujours"), "non exclusives"),
    (lambda d: _exigence(d, "P1.GHT.CAPACITE").update(types=["P1.GHT.CONVENTION", "P1.GHT.COSTRAT"]),
     "un type par choix"),
    (lambda d: _exigence(d, "HC.1.0.2026").pop("annee"), "une année"),
    (lambda d: next(t for t in d["types"] if t["code"] == "P1.GHT.ENGAGEMENT").update(
        regularisee_par=["HC.ADM.GHT.DECISION"]), "régularisé par"),
    (lambda d: d["criteres_ght"].update(sdsi_anciennete_max_mois=0), "positif"),
])
def test_fichier_incoherent_refuse(modifier: Any, extrait: str) -> None:
    with pytest.raises(DonneesProgrammeInvalides, match=extrait):
        construire_programme_pieces(_casse(modifier))


# --- GHT criteria (annex 4) --------------------------------------------------------------------

COMPLETS = CriteresGht(dsi_nom="M. Dupont", dsi_valide=True, projet_medical_valide=True,
                       sdsi_date=date(2023, 1, 10), convergence="DPI commun en 2025",
                       referentiel_identite_unique=True, preuve_capacite="costrat")


def _invalides(c: CriteresGht | None, depot: date = date(2024, 10, 1)) -> list[str]:
    return [i.champ for i in criteres_invalides(c, depot_le=depot, sdsi_anciennete_max_mois=24)]


@pytest.mark.parametrize(("changes", "depot", "champs"), [
    ({}, date(2024, 10, 1), []),
    ({"sdsi_date": date(2022, 10, 2)}, date(2024, 10, 1), []),  # one day under two years
    ({"sdsi_date": date(2022, 10, 1)}, date(2024, 10, 1), ["criteres_ght.sdsi_date"]),  # two years
    ({"sdsi_date": None, "sdsi_en_cours_de_mise_a_jour": True}, date(2024, 10, 1), []),
    ({"sdsi_date": date(2020, 1, 1), "sdsi_en_cours_de_mise_a_jour": True}, date(2024, 10, 1), []),
    ({"sdsi_date": None}, date(2024, 10, 1), ["criteres_ght.sdsi_date"]),
    ({"sdsi_date": date(2024, 10, 2)}, date(2024, 10, 1), ["criteres_ght.sdsi_date"]),
    # 29 February: two years before is 28 February 2022 (clamped), itself too old.
    ({"sdsi_date": date(2022, 2, 28)}, date(2024, 2, 29), ["criteres_ght.sdsi_date"]),
    ({"sdsi_date": date(2022, 3, 1)}, date(2024, 2, 29), []),
    ({"dsi_nom": "  ", "dsi_valide": False}, date(2024, 10, 1),
     ["criteres_ght.dsi_ght.nom", "criteres_ght.dsi_ght.valide"]),
    ({"projet_medical_valide": False, "convergence": ""}, date(2024, 10, 1),
     ["criteres_ght.projet_medical_valide", "criteres_ght.convergence"]),
    ({"referentiel_identite_unique": None, "preuve_capacite": None}, date(2024, 10, 1),
     ["criteres_ght.referentiel_identite_unique", "criteres_ght.preuve_capacite"]),
    ({"preuve_capacite": "engagement"}, date(2024, 10, 1), ["criteres_ght.a_regulariser_le"]),
])
def test_criteres_au_depot(changes: dict[str, Any], depot: date, champs: list[str]) -> None:
    c = CriteresGht(**{**vars(COMPLETS), **changes})
    assert _invalides(c, depot) == champs


def test_criteres_absents() -> None:
    assert _invalides(None) == ["criteres_ght"]


@pytest.mark.parametrize(("changes", "champ"), [
    ({"a_regulariser_le": date(2024, 12, 1)}, "criteres_ght.a_regulariser_le"),  # costrat: no due date
    ({"preuve_capacite": "engagement"}, "criteres_ght.a_regulariser_le"),
    ({"preuve_capacite": "engagement", "a_regulariser_le": date(2024, 9, 30)},
     "criteres_ght.a_regulariser_le"),
    ({"sdsi_date": date(2024, 10, 2)}, "criteres_ght.sdsi_date"),
])
def test_saisie_incoherente(changes: dict[str, Any], champ: str) -> None:
    with pytest.raises(RegleMetierError) as exc:
        verifier_saisie(CriteresGht(**{**vars(COMPLETS), **changes}), aujourd_hui=date(2024, 10, 1))
    assert exc.value.champ == champ


def test_saisie_partielle_acceptee() -> None:
    verifier_saisie(CriteresGht(), aujourd_hui=date(2024, 10, 1))
    verifier_saisie(CriteresGht(preuve_capacite="engagement", a_regulariser_le=date(2024, 10, 1)),
                    aujourd_hui=date(2024, 10, 1))
