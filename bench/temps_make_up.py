"""Time of `make up` from a fresh clone, then from the same (warm) clone.

Clones the repository (its committed HEAD) into a temporary folder, runs `make up` until it
prints that the stack is up, stops it with SIGINT (as Ctrl-C does), checks nothing is left
running, and does it again in the warm clone. `--caches-vides` also empties uv's and Maven's
download caches for the first run, as on a machine that never built the project.

    .venv/bin/python bench/temps_make_up.py [--caches-vides] [--sortie bench/results/make_up.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console

from hopen_common.devstack._util import port_in_use
from hopen_common.devstack.stack import DEFAULT_SERVICE_PORTS, find_repo_root

PRET = "Ctrl-C stops the stack."
PORTS = [*DEFAULT_SERVICE_PORTS.values(), 54329, 19092, 19093]


def lancer(clone: Path, env: dict[str, str], journal: Path, console: Console) -> float:
    busy = [p for p in PORTS if port_in_use(p)]
    if busy:
        raise SystemExit(f"ports in use, stop what holds them first: {busy}")
    debut = time.monotonic()
    with journal.open("w") as sortie:
        proc = subprocess.Popen(["make", "up"], cwd=clone, env=env, stdout=sortie, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while PRET not in journal.read_text(errors="replace"):
                if proc.poll() is not None:
                    raise SystemExit(f"make up exited ({proc.returncode}); see {journal}")
                if time.monotonic() - debut > 1800:
                    raise SystemExit("make up not ready after 30 min")
                time.sleep(0.2)
            duree = time.monotonic() - debut
            console.print(f"  up in {duree:.1f} s")
        finally:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
            proc.wait(timeout=180)
    time.sleep(1)
    restants = [p for p in PORTS if port_in_use(p)]
    if restants:
        raise SystemExit(f"something still listens after SIGINT: {restants}")
    return duree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--caches-vides", action="store_true", help="empty uv and Maven caches")
    parser.add_argument("--sortie", type=Path, default=Path("bench/results/make_up.json"))
    args = parser.parse_args()
    console = Console(stderr=True)
    racine = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="hopen-make-up-") as dossier:
        clone = Path(dossier) / "clone"
        subprocess.run(["git", "clone", "-q", str(racine), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
        if args.caches_vides:
            env["UV_CACHE_DIR"] = str(Path(dossier) / "uv-cache")
            env["MAVEN_OPTS"] = f"-Dmaven.repo.local={Path(dossier) / 'm2'}"
        console.print(f"fresh clone ({'empty' if args.caches_vides else 'warm'} download caches)")
        frais = lancer(clone, env, Path(dossier) / "frais.log", console)
        console.print("same clone again (warm)")
        chaud = lancer(clone, env, Path(dossier) / "chaud.log", console)
    resultat = {"clone_frais_s": round(frais, 1), "clone_chaud_s": round(chaud, 1),
                "caches_de_telechargement_vides": args.caches_vides}
    args.sortie.parent.mkdir(parents=True, exist_ok=True)
    args.sortie.write_text(json.dumps(resultat, indent=2) + "\n")
    Console().print(resultat)


if __name__ == "__main__":
    main()
