"""`hopen habilitations amorcer`: the first DNS person (or ops account) of a new platform.

Nobody can grant rights by API on an empty platform (every grant needs a manager, ADR 0022). Run on
the server, against the referentiel's database (REFERENTIEL_DATABASE_URL), once: refused as soon as
an active habilitation of that role exists. The grant is journaled, audited and published like any
other; the person then names the others through /v1/habilitations.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated

import typer
from rich.console import Console

from hopen_common.auth import Role
from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_common.problemes import ProblemError
from hopen_referentiel.habilitations import service
from hopen_referentiel.settings import ReferentielSettings

app = typer.Typer(help="Habilitations: bootstrap the first DNS person or ops account (ADR 0022).",
                  no_args_is_help=True)
console = Console(stderr=True)


async def _amorcer(database_url: str, *, emetteur: str, sujet: str, role: Role, nom: str | None,
                   motivation: str) -> str:
    engine = build_engine(database_url)
    try:
        async with session_scope(build_sessionmaker(engine)) as session:
            ligne = await service.amorcer(session, emetteur=emetteur, sujet=sujet, role=role, nom=nom,
                                          motivation=motivation, par=f"amorcage:{getpass.getuser()}")
            return str(ligne.id)
    finally:
        await engine.dispose()


@app.command()
def amorcer(
    emetteur: Annotated[str, typer.Option(help="The identity provider's issuer, exactly as its tokens' iss")],
    sujet: Annotated[str, typer.Option(help="The person's sub at that issuer")],
    role: Annotated[str, typer.Option(help="dns or ops")] = "dns",
    nom: Annotated[str | None, typer.Option(help="Name shown to the other managers")] = None,
    motivation: Annotated[str, typer.Option(help="Why (kept in the history and the audit)")] = (
        "amorçage de la plateforme"),
    database_url: Annotated[str | None, typer.Option(help="Default: REFERENTIEL_DATABASE_URL")] = None,
) -> None:
    """Grant the first DNS person (or ops account); refused once one is active."""
    if role not in (Role.DNS.value, Role.OPS.value):
        console.print("[red]--role : dns ou ops[/red]")
        raise typer.Exit(2)
    # Only the database URL is read here: the production checks of the settings concern the API.
    url = database_url or ReferentielSettings(environment="development").database_url
    try:
        identifiant = asyncio.run(_amorcer(url, emetteur=emetteur, sujet=sujet, role=Role(role), nom=nom,
                                           motivation=motivation))
    except ProblemError as exc:
        console.print(f"[red]refusé : {exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"habilitation {identifiant} : {sujet} ({emetteur}) {role}")
    print(identifiant)
