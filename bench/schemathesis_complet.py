"""schemathesis on the five services, both roles and more examples (issue 12 item 3).

`make test` runs a bounded pass as the DNS (tests/contrats/test_schemathesis.py); this runs the same
checks (every check, positive and negative data, the four phases, the stateful one over the inferred
links) as the DNS and as an ARS agent of Corse (its region's scope: another region's resources must
answer 404, never a 2xx), with `--exemples` examples per operation and phase, against a whole native
stack (real PostgreSQL with fsync, real Kafka, the five services) in a temporary folder. It prints
schemathesis' counts per service and role (the README's table) and exits 1 on any failure.

    .venv/bin/python bench/schemathesis_complet.py [--exemples 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _postgres import pile_native  # bench/, the script's folder
from rich.console import Console
from rich.table import Table

from hopen_common.auth.tokens import mint_dev_token
from hopen_common.devstack.stack import find_repo_root
from hopen_common.settings import DEV_JWT_SECRET
from hopen_common.testing.schemathesis import lancer

JETONS = {
    "dns": mint_dev_token(role="dns", finess=[], region=None, subject="st-dns", secret=DEV_JWT_SECRET),
    "ars 94": mint_dev_token(role="ars", finess=[], region="94", subject="st-ars", profils=["instructeur"],
                             secret=DEV_JWT_SECRET),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exemples", type=int, default=20, help="examples per operation and phase")
    args = parser.parse_args()
    console = Console(stderr=True)
    racine = find_repo_root()
    config_st = racine / "tests" / "contrats" / "schemathesis.toml"
    table = Table(title=f"schemathesis, {args.exemples} examples per operation and phase")
    for colonne in ("service", "role", "test cases", "result", "seconds"):
        table.add_column(colonne)
    echecs = []
    with tempfile.TemporaryDirectory(prefix="hopen-st-") as dossier, \
            pile_native(Path(dossier), console) as urls:
        for role, jeton in JETONS.items():
            console.print(f"[bold]{role}[/]: the five services at once …")
            debut = time.monotonic()
            resultats = lancer(urls, jeton, config=config_st, exemples=args.exemples, racine=racine,
                               delai=3600)
            duree = time.monotonic() - debut
            for r in resultats:
                table.add_row(r.service, role, r.resume, "ok" if r.code == 0 else "FAILED",
                              f"{duree:.0f}")
                if r.code != 0:
                    echecs.append(r)
    Console().print(table)
    for r in echecs:
        console.print(f"--- {r.service} ---\n{r.sortie[-6000:]}")
    return 1 if echecs else 0


if __name__ == "__main__":
    sys.exit(main())
