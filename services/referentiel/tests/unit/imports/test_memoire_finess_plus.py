"""The FINESS+ reader's memory stays flat: a file 10 times larger does not raise its peak.

Files come from the benchmark generator (bench/generer_finess_national.py), shaped on the real
sample. tracemalloc counts allocations, so the peaks are deterministic, not timings.
"""

from __future__ import annotations

import importlib.util
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from hopen_referentiel.imports import (
    EtablissementGeographique,
    decoupage_json,
    lire_finess_plus,
    tables_import,
)

GENERATEUR = Path(__file__).resolve().parents[5] / "bench" / "generer_finess_national.py"


def _generateur() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generer_finess_national", GENERATEUR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the file executes
    spec.loader.exec_module(module)
    return module


def _pic(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def fichiers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    generateur = _generateur()
    repertoire = tmp_path_factory.mktemp("finess")
    petit, grand = repertoire / "x1.json.gz", repertoire / "x10.json.gz"
    # A few departements only: each FINESS prefix seen costs a fixed 125 kB bit set
    # (controles.EnsembleFiness), which the small file must already have paid for.
    departements = ("21", "2A", "9A", "75")
    generateur.generer(petit, nb_ej=120, nb_eg=200, nb_ght=3, graine=7, departements=departements)
    generateur.generer(grand, nb_ej=1200, nb_eg=2000, nb_ght=3, graine=7, departements=departements)
    return petit, grand


def _parcourir(chemin: Path) -> int:
    return sum(isinstance(element, EtablissementGeographique) for element in lire_finess_plus(chemin))


def test_peak_memory_does_not_grow_with_the_file(
    fichiers: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    petit, grand = fichiers
    # The fast reader holds at most a few read blocks (8 MB each in production, more than these
    # whole test files): a 64 kB block shows that what it holds does not depend on the file.
    monkeypatch.setattr(decoupage_json, "_BLOC", 1 << 16)
    tables_import()  # loaded once, outside the measures
    assert _parcourir(petit) == 200
    assert _parcourir(grand) == 2000

    pic_petit = _pic(lambda: _parcourir(petit))
    pic_grand = _pic(lambda: _parcourir(grand))
    # What keeping the records would cost: proves the measure sees growth when there is some.
    pic_garde = _pic(lambda: list(lire_finess_plus(grand)))

    # Measured: 1.75 MB, 1.78 MB and 3.35 MB.
    assert pic_grand < 1.25 * pic_petit, (pic_petit, pic_grand)
    assert pic_garde > 1.5 * pic_grand, (pic_grand, pic_garde)
