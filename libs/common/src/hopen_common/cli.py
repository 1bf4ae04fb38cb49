"""``hopen``: the developer command line (console script ``hopen = hopen_common.cli:app``).

    hopen up       PostgreSQL + Kafka + migrations + demo data + the five services
    hopen reset    wipe .hopen/ (refused while a stack runs)
    hopen token    mint a development JWT
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="hopen",
    help="HOP'EN 2 developer tools: local stack and development tokens.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


class Role(StrEnum):
    etablissement = "etablissement"
    ars = "ars"
    dns = "dns"
    ops = "ops"
    expert = "expert"


class Profil(StrEnum):
    # The CLI's own copy of hopen_common.auth.Profil: importing auth at startup would slow every command.
    instructeur = "instructeur"
    valideur = "valideur"


class _Shutdown(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_shutdown(signum: int, _frame: FrameType | None) -> None:
    raise _Shutdown(signum)


def _root() -> Path:
    from hopen_common.devstack.stack import StackError, find_repo_root

    try:
        root: Path = find_repo_root()
    except StackError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return root


@app.command()
def up(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the stack writes (default: <repo>/.hopen)")
    ] = None,
    pg_port: Annotated[int, typer.Option(help="PostgreSQL port")] = 54329,
    kafka_port: Annotated[int, typer.Option(help="Kafka broker port")] = 19092,
    kafka_controller_port: Annotated[int, typer.Option(help="Kafka controller port")] = 19093,
    base_port: Annotated[
        int, typer.Option(help="Port of referentiel; the next services take the next ports")
    ] = 8001,
    s3: Annotated[
        bool, typer.Option("--s3", help="Pieces in SeaweedFS's S3 gateway instead of files")
    ] = False,
    s3_port: Annotated[int, typer.Option(help="SeaweedFS S3 port (with --s3)")] = 18333,
    smtp_port: Annotated[int, typer.Option(help="local SMTP server (aiosmtpd, Maildir)")] = 10025,
    oidc_port: Annotated[int, typer.Option(help="local OIDC provider (node oidc-provider)")] = 9400,
) -> None:
    """Start the whole stack in the foreground; Ctrl-C stops everything."""
    from hopen_common.devstack.stack import SERVICES, Stack, StackConfig, StackError, stack_pid_file

    root = _root()
    data = (data_dir or root / ".hopen").resolve()
    config = StackConfig(
        root=root, data_dir=data, pg_port=pg_port, kafka_port=kafka_port,
        kafka_controller_port=kafka_controller_port,
        service_ports={s: base_port + i for i, s in enumerate(SERVICES)},
        s3_port=s3_port if s3 else None, smtp_port=smtp_port, oidc_port=oidc_port,
    )
    pid_file = stack_pid_file(data)
    if pid_file.exists():
        try:
            other = int(pid_file.read_text().strip())
        except ValueError:
            other = 0
        from hopen_common.devstack._util import pid_alive

        if other and other != os.getpid() and pid_alive(other):
            console.print(f"[red]a stack already runs from {data} (pid {other})[/red]")
            raise typer.Exit(1)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{os.getpid()}\n")

    stack = Stack(config, console)
    # Explicit handlers: a process started in the background inherits SIGINT ignored.
    previous = signal.signal(signal.SIGTERM, _raise_shutdown)
    signal.signal(signal.SIGINT, _raise_shutdown)
    started = time.monotonic()
    code = 0
    try:
        stack.up()
        table = Table(title=f"HOP'EN 2 local stack (up in {time.monotonic() - started:.1f}s)")
        table.add_column("service")
        table.add_column("url")
        table.add_column("log")
        for service in SERVICES:
            if service in stack.procs:
                table.add_row(service, config.base_url(service) + "/docs",
                              str(config.logs_dir / f"{service}.log"))
            else:
                table.add_row(service, "[yellow]not started (missing)[/yellow]", "")
        table.add_row("postgresql", f"127.0.0.1:{pg_port} (hopen/hopen)",
                      str(config.pg_dir / "postgresql.log"))
        table.add_row("kafka", config.bootstrap, str(config.logs_dir / "kafka.log"))
        table.add_row("mail (SMTP)", f"127.0.0.1:{config.smtp_port}",
                      str(config.data_dir / "smtp" / "Maildir"))
        table.add_row("identity (OIDC issuer)", f"{config.oidc_issuer} (hopen oidc-token --subject NAME)",
                      str(config.logs_dir / "oidc.log"))
        if config.s3_port is not None:
            table.add_row("pieces (S3)", f"http://127.0.0.1:{config.s3_port} bucket {config.s3_bucket}",
                          str(config.logs_dir / "seaweedfs.log"))
        else:
            table.add_row("pieces (files)", str(config.data_dir / "stockage"), "")
        out = Console()
        if not out.is_terminal:
            out = Console(width=200)
        out.print(table)
        console.print("Ctrl-C stops the stack.")
        reported: set[str] = set()
        while True:
            for service in stack.dead_services():
                if service not in reported:
                    reported.add(service)
                    console.print(f"[red]{service} exited; see {config.logs_dir / service}.log[/red]")
            if stack.seaweed is not None and stack.seaweed.exited() and "seaweedfs" not in reported:
                reported.add("seaweedfs")
                console.print(f"[red]SeaweedFS exited; see {config.logs_dir / 'seaweedfs.log'}[/red]")
            if stack.kafka is not None and stack.kafka.exited() and "kafka" not in reported:
                reported.add("kafka")
                console.print(f"[red]Kafka exited; see {config.logs_dir / 'kafka.log'}[/red]")
            time.sleep(1.0)
    except (KeyboardInterrupt, _Shutdown) as exc:
        console.print(f"\n{exc or 'interrupted'}: stopping the stack...")
    except StackError as exc:
        console.print(f"[red]{exc}[/red]")
        code = 1
    finally:
        # A second Ctrl-C must not interrupt the shutdown (that would leave orphans).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stack.stop()
        finally:
            pid_file.unlink(missing_ok=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)
        console.print("stack stopped.")
    raise typer.Exit(code)


@app.command()
def reset(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data dir to wipe (default: <repo>/.hopen)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask")] = True,
) -> None:
    """Remove everything the local stack wrote (.hopen/). Refused while a stack runs."""
    from hopen_common.devstack.stack import running_components, wipe

    data = (data_dir or _root() / ".hopen").resolve()
    running = running_components(data)
    if running:
        console.print(f"[red]refusing to reset {data}: still running: {', '.join(running)}[/red]")
        raise typer.Exit(1)
    if not yes:
        typer.confirm(f"Delete {data}?", abort=True)
    wipe(data)
    console.print(f"removed {data}")


@app.command("kafka-jars")
def kafka_jars() -> None:
    """Fetch Kafka's jars into deploy/kafka/lib (cached on the pom's sha256)."""
    from hopen_common.devstack.kafka import ensure_kafka_jars, jars_ready

    kafka_dir = _root() / "deploy" / "kafka"
    if jars_ready(kafka_dir):
        return
    started = time.monotonic()
    status = console.status("fetching Kafka jars with Maven...")
    with status if console.is_terminal else contextlib.nullcontext():
        lib = ensure_kafka_jars(kafka_dir)
    console.print(f"Kafka jars in {lib} ({time.monotonic() - started:.1f}s)")


@app.command("oidc-install")
def oidc_install() -> None:
    """`npm ci` the development OIDC provider into deploy/oidc/node_modules (cached on the lock)."""
    from hopen_common.devstack.oidc import ensure_node_modules, modules_ready

    oidc_dir = _root() / "deploy" / "oidc"
    if modules_ready(oidc_dir):
        return
    started = time.monotonic()
    modules = ensure_node_modules(oidc_dir)
    console.print(f"oidc-provider in {modules} ({time.monotonic() - started:.1f}s)")


@app.command("oidc-token")
def oidc_token(
    subject: Annotated[str, typer.Option(help="Who logs in (the token's sub)")],
    issuer: Annotated[str, typer.Option(help="Issuer of the dev stack's provider")] = "http://127.0.0.1:9400",
) -> None:
    """A real access token of the dev stack's OIDC provider (authorization code + PKCE). It carries
    no rights: the services resolve them from their rights tables (ADR 0022)."""
    from urllib.parse import urlsplit

    from hopen_common.devstack.oidc import OidcProvider

    parts = urlsplit(issuer)
    provider = OidcProvider(Path("/nonexistent"), parts.port or 80, _root() / "deploy" / "oidc",
                            host=parts.hostname or "127.0.0.1")
    print(provider.jeton(subject))


@app.command("seaweedfs-bin")
def seaweedfs_bin() -> None:
    """Build SeaweedFS's weed into deploy/seaweedfs/bin (cached on go.mod + go.sum)."""
    from hopen_common.devstack.seaweedfs import ensure_weed, weed_ready

    seaweed_dir = _root() / "deploy" / "seaweedfs"
    if weed_ready(seaweed_dir):
        return
    started = time.monotonic()
    status = console.status("building SeaweedFS's weed with Go (a few minutes, once)...")
    with status if console.is_terminal else contextlib.nullcontext():
        weed = ensure_weed(seaweed_dir)
    console.print(f"weed in {weed} ({time.monotonic() - started:.1f}s)")


@app.command()
def topics(
    bootstrap: Annotated[str, typer.Option(help="Kafka bootstrap servers")] = "127.0.0.1:19092",
    partitions: Annotated[int, typer.Option(help="Partitions of a new topic")] = 3,
    replication: Annotated[int, typer.Option(help="Replication factor of a new topic")] = 1,
) -> None:
    """Create every domain and dead-letter topic that does not exist yet (idempotent).

    `hopen up` does it itself; docker-compose and deployments run this once before the services.
    """
    from hopen_common.contracts.topics import tous_les_topics
    from hopen_common.devstack._util import run_async
    from hopen_common.devstack.kafka import ensure_topics_async
    from hopen_common.devstack.stack import SERVICES

    noms = tous_les_topics(SERVICES)
    run_async(ensure_topics_async(bootstrap, noms, partitions=partitions, replication=replication))
    console.print(f"{len(noms)} topics present on {bootstrap}")


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="Role carried by the token")],
    finess: Annotated[
        list[str] | None, typer.Option(help="FINESS number (repeatable)")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Region code (ars)")] = None,
    subject: Annotated[str, typer.Option(help="Token subject: who the person is (the two-person rule"
                                            " compares subjects)")] = "dev",
    profil: Annotated[
        list[Profil] | None, typer.Option(help="ARS agent's profile, instructeur|valideur (repeatable);"
                                               " default for an ARS: instructeur")
    ] = None,
    referent: Annotated[
        bool, typer.Option("--referent", help="ARS agent: the programme's référent of its region (names"
                                              " the region's agents, ADR 0022)")
    ] = False,
    secret: Annotated[
        str | None,
        typer.Option(help="HS256 key (default: $HOPEN_JWT_SECRET or the development key)"),
    ] = None,
) -> None:
    """Mint a development token (HS256) and print it."""
    from hopen_common.auth.tokens import mint_dev_token

    if secret is None:
        from hopen_common.settings import DEV_JWT_SECRET

        secret = os.environ.get("HOPEN_JWT_SECRET") or DEV_JWT_SECRET
    profils = [p.value for p in profil] if profil else (["instructeur"] if role is Role.ars else [])
    print(mint_dev_token(role=role.value, finess=list(finess or []), region=region,
                         profils=profils, referent=referent, subject=subject, secret=secret))


audit_app = typer.Typer(help="The audit journal's hash chain and signed checkpoints (ADR 0024).",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verifier")
def audit_verifier(
    service: Annotated[str, typer.Option(help="Service whose journal it is (part of the signed text)")],
    dump: Annotated[Path | None, typer.Option(help="Plain-format pg_dump of the service's database")
                    ] = None,
    api: Annotated[str | None, typer.Option(help="Base URL of the service, e.g. http://127.0.0.1:8005")
                   ] = None,
    jeton: Annotated[str | None, typer.Option(help="DNS bearer token (with --api)")] = None,
    cle: Annotated[str | None, typer.Option(
        help="Public key, base64 of 32 bytes (default: --api's /v1/audit/cle, or the development key"
             " with --dump)")] = None,
) -> None:
    """Recompute the chain and check every checkpoint's signature, offline; name the first row
    altered, inserted or removed (exit 1), or say OK."""
    import base64

    from hopen_common import audit

    if (dump is None) == (api is None):
        console.print("[red]one of --dump or --api[/red]")
        raise typer.Exit(2)
    if dump is not None:
        lignes, points = audit.lire_pg_dump(dump.read_text(encoding="utf-8"))
        publique = base64.b64decode(cle) if cle else audit.cle_publique(audit.cle_privee_de_dev(service))
    else:
        import httpx

        entetes = {"Authorization": f"Bearer {jeton}"} if jeton else {}

        def tout(chemin: str) -> list[dict[str, object]]:
            items: list[dict[str, object]] = []
            while True:
                page = httpx.get(f"{api}{chemin}", params={"limit": 500, "offset": len(items)},
                                 headers=entetes, timeout=60).raise_for_status().json()
                items += page["items"]
                console.print(f"{chemin}: {len(items)}/{page['total']}", end="\r")
                if len(items) >= page["total"] or not page["items"]:
                    return items

        lignes = [{**r, "details": r["details_canonique"], "horodatage": r["horodatage_us"]}
                  for r in tout("/v1/audit")]
        points = [{**p, "horodatage": p["horodatage_us"]} for p in tout("/v1/audit/points-de-controle")]
        publique = base64.b64decode(cle or httpx.get(f"{api}/v1/audit/cle", timeout=30)
                                    .raise_for_status().json()["cle_publique"])

    def progression(fait: int, total: int) -> None:
        if fait % 10_000 == 0 or fait == total:
            console.print(f"{fait}/{total} lignes", end="\r")

    rapport = audit.verifier(lignes, points, service=service, cle_publique_=publique, progression=progression)
    console.print(f"\n{rapport.lignes} lignes, {rapport.points} points de contrôle")
    if rapport.ok:
        print("OK")
        return
    for constat in rapport.constats:
        print(f"{constat.nature}: {constat.message}")
    raise typer.Exit(1)


def _commandes_des_services() -> None:
    """Sub-commands declared by the installed services (entry-point group ``hopen.commandes``,
    each a ``typer.Typer``): ``hopen import ...`` comes from the referentiel. libs/common never
    imports a service; a service that fails to load is reported, the other commands still work."""
    from importlib.metadata import entry_points

    for point in entry_points(group="hopen.commandes"):
        try:
            sous_app = point.load()
        except Exception as exc:  # one broken plug-in must not break the other commands
            console.print(f"[yellow]hopen {point.name}: unavailable ({exc})[/yellow]")
            continue
        app.add_typer(sous_app, name=point.name)


_commandes_des_services()

if __name__ == "__main__":  # pragma: no cover
    app()
