"""The fault matrix at size (issue 12 point 5, ADR 0028): every fault F1-F7 on the real workload of
tests/fautes/harnais_fautes.py (messages through candidature's API, candidature's relay and instruction's
consumer as their own processes, a PostgreSQL cluster and a Kafka broker of its own on loopback), each
measured from the ledgers and read models. Self-stopping; prints the table (README, "Matrice de pannes").

    .venv/bin/python bench/bench_fautes.py                      # 300 commands per fault (a few minutes)
    .venv/bin/python bench/bench_fautes.py --commandes 10000    # the issue's size (N per fault)
    .venv/bin/python bench/bench_fautes.py --faute F4            # one fault
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hopen_common.devstack.stack import find_repo_root

sys.path.insert(0, str(find_repo_root() / "tests" / "fautes"))
from harnais_fautes import COLONNES, Infrastructure, Matrice, Mesure  # noqa: E402


async def _jouer(infra: Infrastructure, args: argparse.Namespace) -> list[Mesure]:
    matrice = Matrice(infra, cles=args.cles, debit=args.debit, concurrence=args.concurrence)
    async with matrice.ouverte():
        faits = {
            "F1": lambda: matrice.f1_relais_tue(args.commandes),
            "F2": lambda: matrice.f2_consommateur_tue(args.commandes),
            "F3p": lambda: matrice.f3_broker(args.commandes, dur=False),
            "F3d": lambda: matrice.f3_broker(args.commandes, dur=True),
            "F4": lambda: matrice.f4_postgres(args.commandes),
            "F4l": lambda: matrice.f4_postgres(args.commandes, arret=args.arret_postgres),
            "F5": lambda: matrice.f5_doublons(args.commandes),
            "F6": lambda: matrice.f6_desordre(args.commandes),
            "F7": lambda: matrice.f7_poison(args.commandes),
        }
        choisis = [f for f in faits if args.faute is None or f.startswith(args.faute)]
        mesures = []
        for nom in choisis:
            debut = time.monotonic()
            mesure = await faits[nom]()
            mesures.append(mesure)
            print(f"{nom}: {time.monotonic() - debut:.0f} s {mesure.ligne()} relances API"
                  f" {mesure.relances_api}", flush=True)
        return mesures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commandes", type=int, default=300, help="commands per fault (issue: 10000)")
    parser.add_argument("--cles", type=int, default=50, help="aggregates (candidatures)")
    parser.add_argument("--debit", type=float, default=150.0, help="commands per second (steady load)")
    parser.add_argument("--concurrence", type=int, default=6, help="concurrent clients")
    parser.add_argument("--arret-postgres", type=float, default=8.0,
                        help="F4l: seconds PostgreSQL stays down (past the consumer's retries)")
    parser.add_argument("--faute", default=None, help="only this fault (F1, F2, F3, F3p, F3d, F4...)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fautes-") as dossier:
        infra = Infrastructure(Path(dossier))
        infra.demarrer()
        try:
            mesures = asyncio.run(_jouer(infra, args))
        finally:
            infra.arreter()
    table = Table(title=f"Matrice de pannes: {args.commandes} commandes par faute, {args.cles} clés,"
                        f" {args.debit:.0f}/s")
    for colonne in COLONNES:
        table.add_column(colonne)
    for mesure in mesures:
        table.add_row(*mesure.ligne())
    Console().print(table)
    for mesure in mesures:
        if mesure.details.get("lettres"):
            print(mesure.faute, "dead letters:", [(d["key"], d["motif"]) for d in mesure.details["lettres"]])
    if any(m.perdues or m.doublons or m.violations_ordre for m in mesures):
        raise SystemExit("lost, duplicated or reordered effects: see the table")


if __name__ == "__main__":
    main()
