"""Time the pure FINESS parsers on a generated national-size file: records/s and peak RSS.

    .venv/bin/python bench/generer_finess_national.py --etalab .hopen/bench/etalab-national.csv
    .venv/bin/python bench/bench_parse_finess.py --etalab .hopen/bench/etalab-national.csv

Parsing only: the database write is measured by the import step. Peak RSS is the process's
high-water mark (getrusage), so run one parser per process (`--seulement`) to read each one's.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hopen_referentiel.imports import Bilan, lire_finess_etalab, lire_finess_plus

RACINE = Path(__file__).resolve().parents[1]


class _FichierSuivi(io.RawIOBase):
    """A binary file that reports the bytes read, for the progress bar (the parsers take files)."""

    def __init__(self, chemin: Path, avancer: Callable[[int], None]) -> None:
        self._fichier = chemin.open("rb")
        self._avancer = avancer

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, position: int, depuis: int = io.SEEK_SET) -> int:
        return self._fichier.seek(position, depuis)

    def tell(self) -> int:
        return self._fichier.tell()

    def readinto(self, tampon: memoryview) -> int:  # type: ignore[override]
        lus = self._fichier.readinto(tampon)
        self._avancer(lus)
        return lus

    def close(self) -> None:
        self._fichier.close()
        super().close()


def _mesurer(
    nom: str, chemin: Path, lire: Callable[[IO[bytes]], Iterator[object]], console: Console
) -> dict[str, str]:
    bilan = Bilan()
    colonnes = (TextColumn(nom), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*colonnes, console=console, transient=True) as progression:
        # FINESS+ is read in two passes (groupings, then records): the bar can run up to twice.
        tache = progression.add_task(nom, total=chemin.stat().st_size)
        source = io.BufferedReader(_FichierSuivi(chemin, lambda n: progression.advance(tache, n)), 1 << 20)
        debut = time.perf_counter()
        for _ in bilan.suivre(lire(source)):
            pass
        duree = time.perf_counter() - debut
        source.close()
    enregistrements = bilan.total_enregistrements
    return {
        "fichier": f"{nom} ({chemin.stat().st_size / 1e6:.0f} Mo)",
        "enregistrements": f"{enregistrements:,}".replace(",", " "),
        "rejets": f"{bilan.total_rejets}",
        "duree": f"{duree:.1f} s",
        "debit": f"{enregistrements / duree:,.0f} enr./s".replace(",", " "),
        "rss_max": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} Mo",
    }


def main(arguments: list[str] | None = None) -> int:
    analyseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    analyseur.add_argument(
        "--finess-plus", type=Path, default=RACINE / ".hopen" / "bench" / "finess-national.json.gz"
    )
    analyseur.add_argument("--etalab", type=Path, default=None)
    analyseur.add_argument("--seulement", choices=("finess-plus", "etalab"), default=None)
    options = analyseur.parse_args(arguments)
    console = Console()
    resultats = []
    if options.seulement in (None, "finess-plus"):
        resultats.append(_mesurer("FINESS+ JSON.gz", options.finess_plus, lire_finess_plus, console))
    if options.etalab is not None and options.seulement in (None, "etalab"):
        resultats.append(_mesurer("etalab CSV", options.etalab, lire_finess_etalab, console))
    table = Table(title="Analyse des fichiers FINESS (sans base de donnees)")
    for colonne in ("fichier", "enregistrements", "rejets", "duree", "debit", "rss_max"):
        table.add_column(colonne, justify="right")
    for resultat in resultats:
        table.add_row(*resultat.values())
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
