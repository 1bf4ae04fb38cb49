"""`hopen import ...`: import a ministry file into the referentiel from a terminal.

    hopen import finess FILE          FINESS+ (.json.gz / .json) or etalab (.csv), auto-detected
    hopen import sae FILE             DREES SAE identification (ID_2023r.csv)
    hopen import base-eligible FILE   eligible base: XLSX, or CSV with --type

Writes to the referentiel's database (REFERENTIEL_DATABASE_URL) in one transaction, with a
progress bar on the bytes read, then prints the report. Exit code 1 when the file is
unreadable as a whole (nothing written), 0 otherwise (rejected records are in the report).
"""

from __future__ import annotations

import asyncio
import getpass
import io
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_referentiel.importations.service import Demande, Rapport, TypeImport, importer
from hopen_referentiel.imports import ErreurFichier, TypeDonnees
from hopen_referentiel.settings import ReferentielSettings

app = typer.Typer(help="Import ministry files into the referentiel (FINESS, SAE, eligible base).",
                  no_args_is_help=True)
console = Console(stderr=True)


class FichierSuivi(io.RawIOBase):
    """A binary file that reports its read position (FINESS+ is read twice: the bar restarts)."""

    def __init__(self, chemin: Path, position: Callable[[int], None]) -> None:
        self._fichier = chemin.open("rb")
        self._position = position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, position: int, depuis: int = io.SEEK_SET) -> int:
        resultat = self._fichier.seek(position, depuis)
        self._position(resultat)
        return resultat

    def tell(self) -> int:
        return self._fichier.tell()

    def readinto(self, tampon: Any) -> int:
        lus = self._fichier.readinto(tampon)
        self._position(self._fichier.tell())
        return lus

    def close(self) -> None:
        self._fichier.close()
        super().close()


async def executer(
    chemin: Path, demande: Demande, database_url: str, progression: Progress | None
) -> Rapport:
    engine = build_engine(database_url)
    try:
        taille = chemin.stat().st_size  # noqa: ASYNC240 - one stat before the import, not in a loop
        tache = progression.add_task(chemin.name, total=taille) if progression else None

        def avancer(position: int) -> None:
            if progression is not None and tache is not None:
                progression.update(tache, completed=position)

        source = io.BufferedReader(FichierSuivi(chemin, avancer), 1 << 20)
        try:
            async with session_scope(build_sessionmaker(engine)) as session:
                return await importer(session, demande, source)
        finally:
            source.close()
    finally:
        await engine.dispose()


def _afficher(rapport: Rapport) -> None:
    duree = (rapport.fin - rapport.debut).total_seconds() if rapport.fin else 0.0
    table = Table(title=f"Import {rapport.demande.type.value} {rapport.id} ({duree:.1f} s)")
    for colonne in ("donnees", "crees", "modifies", "inchanges", "fermes"):
        table.add_column(colonne, justify="right")
    for cle, valeur in rapport.compteurs.items():
        if isinstance(valeur, dict) and cle not in ("fiches", "extraction"):
            colonnes = ("crees", "modifies", "inchanges", "fermes")
            table.add_row(cle, *(str(valeur.get(c, "")) for c in colonnes))
    Console().print(table)
    if rapport.identique_a:
        console.print(f"fichier identique a l'import {rapport.identique_a} : rien n'a ete relu (--forcer)")
    fiches = rapport.compteurs.get("fiches")
    if fiches:
        console.print(f"fiches : {fiches['calculees']} calculees, {fiches['creees']} creees, "
                      f"{fiches['modifiees']} modifiees ; {fiches['evenements']} evenements publies")
    console.print(f"rejets : {sum(rapport.rejets.values())} {dict(rapport.rejets)}")
    console.print(f"avertissements : {sum(rapport.avertissements.values())} {dict(rapport.avertissements)}")
    for s in rapport.signalements[:20]:
        console.print(f"  {s.code.value} {s.position} : {s.message}")


def _lancer(chemin: Path, type_import: TypeImport, forcer: bool, database_url: str | None,
            type_donnees: TypeDonnees | None = None) -> None:
    demande = Demande(type=type_import, nom_fichier=chemin.name, demande_par=f"cli:{getpass.getuser()}",
                      role="ops", type_donnees=type_donnees, forcer=forcer)
    url = database_url or ReferentielSettings().database_url
    colonnes = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    try:
        with Progress(*colonnes, console=console, transient=True, disable=not console.is_terminal) as barre:
            rapport = asyncio.run(executer(chemin, demande, url, barre))
    except ErreurFichier as exc:
        console.print(f"[red]fichier illisible ({exc.code.value}) : {exc}[/red] ; rien n'a ete ecrit")
        raise typer.Exit(1) from exc
    _afficher(rapport)


Fichier = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
Forcer = Annotated[bool, typer.Option("--forcer", help="read again a file identical to the last import")]
Base = Annotated[str | None, typer.Option(help="database URL (default: $REFERENTIEL_DATABASE_URL)")]


@app.command()
def finess(fichier: Fichier, forcer: Forcer = False, database_url: Base = None) -> None:
    """FINESS: FINESS+ JSON feed (.json.gz, .json) or legacy etalab CSV, recognised by content."""
    with fichier.open("rb") as f:
        debut = f.read(16)
    if debut.startswith(b"finess;etalab"):
        type_import = TypeImport.FINESS_ETALAB
    elif debut.startswith(b"\x1f\x8b") or debut.lstrip().startswith(b"{"):
        type_import = TypeImport.FINESS_PLUS
    else:
        console.print("[red]ni un flux FINESS+ (JSON, gzip) ni une extraction etalab[/red]")
        raise typer.Exit(1)
    _lancer(fichier, type_import, forcer, database_url)


@app.command()
def sae(fichier: Fichier, forcer: Forcer = False, database_url: Base = None) -> None:
    """DREES SAE identification file (bordereau ID): fills in establishments FINESS lacks."""
    _lancer(fichier, TypeImport.SAE, forcer, database_url)


@app.command("base-eligible")
def base_eligible(
    fichier: Fichier,
    type_donnees: Annotated[TypeDonnees | None, typer.Option("--type", help="CSV: the kind of data")] = None,
    forcer: Forcer = False,
    database_url: Base = None,
) -> None:
    """Eligible base: an XLSX workbook (one sheet per kind) or one CSV of the kind --type."""
    if fichier.suffix.lower() == ".csv" and type_donnees is None:
        console.print("[red]un CSV porte une seule sorte de donnees : preciser --type[/red]")
        raise typer.Exit(2)
    _lancer(fichier, TypeImport.BASE_ELIGIBLE, forcer, database_url,
            type_donnees if fichier.suffix.lower() == ".csv" else None)
