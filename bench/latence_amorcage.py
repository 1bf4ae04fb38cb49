"""Delay between an ARS validation and its amorçage being readable in financement.

Brings up the whole native stack (real PostgreSQL and Kafka, the five services) in a
temporary folder on free ports, prepares N deposited candidatures, then for each: sends the
ARS decision and polls financement until the amorçage lines of that candidature are there.
The delay covers the instruction outbox, its relay, Kafka, the financement consumer and
its transaction, and the read. Decisions are sent one after the other (an ARS agent's pace
is far slower; this measures the pipeline, not contention).

    .venv/bin/python bench/latence_amorcage.py [--decisions 100] [--sortie bench/results/...json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hopen_common.devstack._util import free_port
from hopen_common.devstack.stack import SERVICES, Stack, StackConfig, find_repo_root
from hopen_common.testing import finalement, jeton
from hopen_common.testing.quatre_yeux import decider_a_deux_sync

# Demo establishments that apply for themselves, with their region (services/referentiel/data/demo).
CANDIDATS = [("2B0005342", "94"), ("2A0002606", "94"), ("980500003", "06"), ("800009920", "32"),
             ("800012528", "32"), ("800016727", "32"), ("800016768", "32"), ("970102596", "01"),
             ("770016137", "11"), ("750150377", "11"), ("510002298", "44")]


def centile(valeurs: list[float], p: float) -> float:
    ordonnees = sorted(valeurs)
    rang = max(0, min(len(ordonnees) - 1, round(p / 100 * len(ordonnees) + 0.5) - 1))
    return ordonnees[rang]


def preparer(client: httpx.Client, urls: dict[str, str], n: int, progress: Progress
             ) -> list[tuple[str, str, str]]:
    """N candidatures deposited and visible to their ARS: (candidature id, FINESS, region)."""
    prets = []
    tache = progress.add_task("deposited candidatures", total=n)
    for i in range(n):
        finess, region = CANDIDATS[i % len(CANDIDATS)]
        es = jeton("etablissement", finess=[finess])

        def creer(es: dict[str, str] = es, finess: str = finess) -> dict[str, Any] | None:
            r = client.post(f"{urls['candidature']}/v1/candidatures", headers=es,
                            json={"dispositif": "phase1", "finess": finess, "objectifs": ["P1.O1", "P1.O2"]})
            return None if r.status_code == 422 and "inconnu" in r.text else r.raise_for_status().json()

        cid = finalement(creer, en=120, quoi="establishments known to candidature")["id"]
        client.post(f"{urls['candidature']}/v1/candidatures/{cid}/depot", headers=es).raise_for_status()
        prets.append((cid, finess, region))
        progress.advance(tache)
    ars = {r: jeton("ars", region=r) for _, _, r in prets}
    for cid, _, region in prets:
        finalement(lambda c=cid, r=region: client.get(f"{urls['instruction']}/v1/dossiers/{c}",
                                                      headers=ars[r]).is_success, en=120, quoi="dossiers")
    return prets


def mesurer(client: httpx.Client, urls: dict[str, str], prets: list[tuple[str, str, str]],
            progress: Progress) -> list[float]:
    delais = []
    tache = progress.add_task("decision -> amorcage readable", total=len(prets))
    for cid, finess, region in prets:
        es, ars = jeton("etablissement", finess=[finess]), jeton("ars", region=region)
        debut = time.perf_counter()
        # Proposed and confirmed (ADR 0023): the latency includes the proposal's dry run.
        decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                            json={"decision": "validee", "motivation": "benchmark"}).raise_for_status()
        while True:
            lignes = client.get(f"{urls['financement']}/v1/financements", params={"finess": finess},
                                headers=es).raise_for_status().json()["items"]
            if sum(1 for li in lignes if li["candidature_id"] == cid and li["nature"] == "amorcage") == 2:
                break
            if time.perf_counter() - debut > 60:
                raise RuntimeError(f"no amorcage for {cid} after 60 s")
            time.sleep(0.005)
        delais.append((time.perf_counter() - debut) * 1000)
        progress.advance(tache)
    return delais


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=100)
    parser.add_argument("--sortie", type=Path, default=Path("bench/results/latence_amorcage.json"))
    args = parser.parse_args()
    console = Console(stderr=True)
    racine = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="hopen-bench-") as dossier:
        ports = {s: free_port() for s in SERVICES}
        config = StackConfig(root=racine, data_dir=Path(dossier), pg_port=free_port(), kafka_port=free_port(),
                             kafka_controller_port=free_port(), service_ports=ports, pg_fast=False)
        stack = Stack(config, console)
        stack.up()
        try:
            urls = {s: config.base_url(s) for s in SERVICES}
            with httpx.Client(timeout=30) as client, Progress(console=console) as progress:
                prets = preparer(client, urls, args.decisions, progress)
                delais = mesurer(client, urls, prets, progress)
        finally:
            stack.stop()
    resultat = {
        "decisions": len(delais), "mediane_ms": round(statistics.median(delais), 1),
        "p95_ms": round(centile(delais, 95), 1), "p99_ms": round(centile(delais, 99), 1),
        "max_ms": round(max(delais), 1), "min_ms": round(min(delais), 1),
        "machine": "2 cores, 24 GiB; PostgreSQL with fsync on; one Kafka broker",
    }
    args.sortie.parent.mkdir(parents=True, exist_ok=True)
    args.sortie.write_text(json.dumps(resultat, indent=2) + "\n")
    table = Table(title=f"ARS decision -> amorcage readable in financement ({len(delais)} decisions)")
    for cle in ("min_ms", "mediane_ms", "p95_ms", "p99_ms", "max_ms"):
        table.add_row(cle, f"{resultat[cle]:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
