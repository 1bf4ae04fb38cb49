"""schemathesis against running services (issue 12 item 3, ADR 0027): one way to run it, shared by
the suite (tests/contrats/test_schemathesis.py, a bounded run) and the benchmark
(bench/schemathesis_complet.py, both roles and more examples).

Each service is its own `st` process; the five run at the same time (each waits on its service most
of the time, so they overlap well even on two cores). Dev tooling: `st` comes with the dev
dependencies, never with a service."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PHASES = "examples,coverage,fuzzing,stateful"
GRAINE = "20261203"  # a fixed seed: a failure found once is found again


@dataclass(frozen=True)
class Resultat:
    service: str
    code: int
    sortie: str

    @property
    def resume(self) -> str:
        """schemathesis' own count line ("1553 generated, 1553 passed, 22 skipped")."""
        trouve = re.search(r"Test cases:\s*\n\s*(.+)", self.sortie)
        return trouve.group(1).strip() if trouve else "?"


def commande(url: str, jeton: str, *, config: Path, exemples: int) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [str(st), "--config-file", str(config), "run", f"{url}/openapi.json", "--checks", "all",
            "--phases", PHASES, "--max-examples", str(exemples), "--seed", GRAINE, "--no-color",
            "--request-timeout", "20", "-H", f"Authorization: Bearer {jeton}"]


def lancer(urls: Mapping[str, str], jeton: str, *, config: Path, exemples: int, racine: Path,
           delai: float = 900.0) -> list[Resultat]:
    """Every service of `urls` at once; the results in `urls`' order."""
    def un(service: str) -> Resultat:
        fait = subprocess.run(commande(urls[service], jeton, config=config, exemples=exemples),
                              capture_output=True, text=True, timeout=delai, cwd=racine, check=False)
        return Resultat(service, fait.returncode, fait.stdout + fait.stderr)

    with ThreadPoolExecutor(max_workers=len(urls)) as groupe:
        return list(groupe.map(un, urls))
