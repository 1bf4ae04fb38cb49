"""The benchmark generator writes files the readers accept, deterministically, with the anomalies asked."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from hopen_referentiel.imports import Bilan, lire_finess_etalab, lire_finess_plus

GENERATEUR = Path(__file__).resolve().parents[5] / "bench" / "generer_finess_national.py"


def _generateur() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generer_finess_national", GENERATEUR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _bilan(elements: object) -> Bilan:
    bilan = Bilan()
    for _ in bilan.suivre(elements):  # type: ignore[call-overload]
        pass
    return bilan


def test_generated_files_are_deterministic_and_read_back(tmp_path: Path) -> None:
    generateur = _generateur()
    premier, second, etalab = tmp_path / "a.json.gz", tmp_path / "b.json.gz", tmp_path / "a.csv"
    statistiques = generateur.generer(premier, nb_ej=400, nb_eg=700, nb_ght=4, graine=3, sortie_etalab=etalab)
    generateur.generer(second, nb_ej=400, nb_eg=700, nb_ght=4, graine=3)
    assert premier.read_bytes() == second.read_bytes()

    json_bilan = _bilan(lire_finess_plus(premier))
    assert json_bilan.rejets == {}
    assert dict(json_bilan.enregistrements) == {
        "EntiteJuridique": 400,
        "EtablissementGeographique": 700,
        "GroupementGht": statistiques.ght,
    }
    assert statistiques.ght == 4
    etalab_bilan = _bilan(lire_finess_etalab(etalab))
    assert etalab_bilan.rejets == {}
    assert etalab_bilan.enregistrements["EtablissementGeographique"] == 700


def test_anomalies_become_the_matching_rejections(tmp_path: Path) -> None:
    chemin = tmp_path / "anomalies.json.gz"
    statistiques = _generateur().generer(
        chemin, nb_ej=500, nb_eg=900, nb_ght=2, graine=5, taux_anomalies=0.05
    )
    attendu = {
        "cle": "finess_cle",
        "categorie": "categorie_inconnue",
        "territoire": "territoire_hors_perimetre",
        "doublon": "doublon",
    }
    assert sum(statistiques.anomalies.values()) > 20
    assert dict(_bilan(lire_finess_plus(chemin)).rejets) == {
        attendu[nom]: nombre for nom, nombre in statistiques.anomalies.items()
    }
