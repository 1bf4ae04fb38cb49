"""Shared field checks: the fixed-size FINESS set and the departement of a FINESS number."""

from __future__ import annotations

import pytest

from hopen_common.finess import cle_finess_valide
from hopen_referentiel.imports.controles import EnsembleFiness, departement_du_finess


def test_finess_set_finds_duplicates_per_number() -> None:
    ensemble = EnsembleFiness()
    assert ensemble.ajouter("210780581")
    assert ensemble.ajouter("2A0000154")
    assert ensemble.ajouter("210012142")
    assert not ensemble.ajouter("210780581")
    assert "210780581" in ensemble
    assert "2A0000154" in ensemble
    assert "2B0000154" not in ensemble  # same digits, other Corsican departement
    assert "210780580" not in ensemble  # same 8 first characters, invalid key
    assert "520780032" not in ensemble
    assert 210780581 not in ensemble


def test_finess_set_memory_is_per_prefix_not_per_number() -> None:
    ensemble = EnsembleFiness()
    for rang in range(0, 1_000_000, 997):
        corps = f"21{rang:06d}"
        numero = next(corps + cle for cle in "0123456789" if cle_finess_valide(corps + cle))
        assert ensemble.ajouter(numero)
    assert len(ensemble._bits) == 1
    assert len(ensemble._bits["21"]) == 125_000


@pytest.mark.parametrize(
    ("finess", "departement"),
    [
        ("210780581", "21"),
        ("2A0000154", "2A"),
        ("970100491", "9A"),
        ("970400019", "9D"),
        ("980500003", "9F"),
        ("970900007", None),
    ],
)
def test_departement_of_a_finess_number(finess: str, departement: str | None) -> None:
    assert departement_du_finess(finess) == departement
