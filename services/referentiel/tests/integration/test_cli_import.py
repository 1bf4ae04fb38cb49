"""`hopen import ...`: the referentiel's sub-commands reach the `hopen` CLI through the
`hopen.commandes` entry point, and import into a real database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from hopen_common.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ECHANTILLON = FIXTURES / "finess" / "finess-structures-echantillon_json.gz"


def test_hopen_import_est_branche_par_point_d_entree() -> None:
    resultat = CliRunner().invoke(app, ["import", "--help"])
    assert resultat.exit_code == 0, resultat.output
    for commande in ("finess", "sae", "base-eligible"):
        assert commande in resultat.output


def test_hopen_import_finess_puis_fichier_identique(
    fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database("referentiel")
    runner = CliRunner()
    premier = runner.invoke(app, ["import", "finess", str(ECHANTILLON), "--database-url", url])
    assert premier.exit_code == 0, premier.output
    assert "1753" in premier.output
    assert "rejets : 0" in premier.output
    second = runner.invoke(app, ["import", "finess", str(ECHANTILLON), "--database-url", url])
    assert second.exit_code == 0, second.output
    assert "identique" in second.output

    tronque = tmp_path / "tronque.json.gz"
    tronque.write_bytes(ECHANTILLON.read_bytes()[:50_000])
    echec = runner.invoke(app, ["import", "finess", str(tronque), "--database-url", url])
    assert echec.exit_code == 1
    assert "fichier_tronque" in echec.output
