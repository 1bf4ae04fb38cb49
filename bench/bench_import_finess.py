"""Time the FINESS import into a real PostgreSQL: first import, unchanged re-import, peak RSS.

    .venv/bin/python bench/generer_finess_national.py --sortie .hopen/bench/finess-national.json.gz \
        --etalab .hopen/bench/etalab-national.csv
    .venv/bin/python bench/bench_import_finess.py

Each step runs in its own process (so that its peak RSS is its own) against a fresh database
migrated to head, on an embedded PostgreSQL started for the bench (or `--pg-port` of a running
one with the `hopen` role). Steps, in order, on the same database:

1. FINESS+ national file, first import (every record created, every fiche computed, the
   fiches of the programme's perimeter published to the outbox);
2. the same file again: identical bytes, nothing is read (the journal says so);
3. the same file with --forcer: read, parsed and compared again; nothing written;
4. etalab national file (EG only, EJ known from step 1): first import;
5. etalab again with --forcer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _postgres import base_migree, grappe_de_banc  # bench/, the script's folder
from rich.console import Console
from rich.table import Table

RACINE = Path(__file__).resolve().parents[1]


def _etape(url: str, chemin: Path, forcer: bool) -> dict[str, object]:
    from hopen_common.db import build_engine, build_sessionmaker, session_scope
    from hopen_referentiel.importations.service import Demande, TypeImport, importer

    with chemin.open("rb") as f:
        etalab = f.read(13) == b"finess;etalab"
    demande = Demande(type=TypeImport.FINESS_ETALAB if etalab else TypeImport.FINESS_PLUS,
                      nom_fichier=chemin.name, demande_par="bench", role="ops", forcer=forcer)

    async def executer() -> dict[str, object]:
        engine = build_engine(url)
        try:
            debut = time.perf_counter()
            async with session_scope(build_sessionmaker(engine)) as session:
                rapport = await importer(session, demande, chemin)
            duree = time.perf_counter() - debut
        finally:
            await engine.dispose()
        return {"duree": duree, "compteurs": rapport.compteurs, "rejets": sum(rapport.rejets.values()),
                "identique": rapport.identique_a is not None}

    resultat = asyncio.run(executer())
    resultat["rss_max_mo"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return resultat


def _base(pg_port: int | None, dossier: Path) -> tuple[str, object | None]:
    admin, port, cluster = grappe_de_banc(pg_port, dossier, fast=True)
    return base_migree(admin, port, "referentiel", "bench_referentiel"), cluster


def main(arguments: list[str] | None = None) -> int:
    analyseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    banc = RACINE / ".hopen" / "bench"
    analyseur.add_argument("--finess-plus", type=Path, default=banc / "finess-national.json.gz")
    analyseur.add_argument("--etalab", type=Path, default=RACINE / ".hopen" / "bench" / "etalab-national.csv")
    analyseur.add_argument("--pg-port", type=int, default=None)
    analyseur.add_argument("--etape", nargs=3, metavar=("URL", "FICHIER", "FORCER"), help=argparse.SUPPRESS)
    options = analyseur.parse_args(arguments)
    if options.etape:
        url, fichier, forcer = options.etape
        print(json.dumps(_etape(url, Path(fichier), forcer == "1"), default=str))
        return 0

    console = Console() if Console().is_terminal else Console(width=150)
    with tempfile.TemporaryDirectory(prefix="bench-referentiel-") as dossier:
        url, cluster = _base(options.pg_port, Path(dossier))
        try:
            etapes = [
                ("FINESS+ premier import", options.finess_plus, False),
                ("FINESS+ fichier identique", options.finess_plus, False),
                ("FINESS+ relu (--forcer), inchange", options.finess_plus, True),
            ]
            if options.etalab and options.etalab.is_file():
                etapes += [("etalab premier import", options.etalab, False),
                           ("etalab relu (--forcer), inchange", options.etalab, True)]
            table = Table(title="Import FINESS national (base PostgreSQL reelle)")
            for colonne in ("etape", "duree", "EJ c/m/i/f", "EG c/m/i/f", "fiches ecrites", "evenements",
                            "rejets", "rss max"):
                table.add_column(colonne, justify="right")
            for nom, fichier, forcer in etapes:
                with console.status(nom):
                    sortie = subprocess.run(
                        [sys.executable, __file__, "--etape", url, str(fichier), "1" if forcer else "0"],
                        check=True, capture_output=True, text=True,
                    )
                r = json.loads(sortie.stdout.strip().splitlines()[-1])
                c = r["compteurs"]

                def cmif(cle: str, c: dict[str, object] = c) -> str:
                    v = c.get(cle)
                    if not isinstance(v, dict):
                        return "-"
                    return "/".join(str(v.get(k, 0)) for k in ("crees", "modifies", "inchanges", "fermes"))

                fiches = c.get("fiches") or {}
                table.add_row(nom, f"{r['duree']:.1f} s", cmif("entites_juridiques"), cmif("etablissements"),
                              str(fiches.get("creees", 0) + fiches.get("modifiees", 0)),
                              str(fiches.get("evenements", 0)), str(r["rejets"]), f"{r['rss_max_mo']:.0f} Mo")
            console.print(table)
        finally:
            if cluster is not None:
                cluster.stop()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
