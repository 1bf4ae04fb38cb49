"""Time of a lot of N dossiers (POST /v1/lots): the dry run (answered synchronously, with financement's
amounts) and the real run (202, then every dossier decided in its own transaction by the lot worker,
until GET /v1/lots/{id} says `termine`).

Brings up the whole native stack (real PostgreSQL and Kafka, the five services under uvicorn) in a
temporary folder on free ports. The N deposited dossiers, one per establishment (N distinct public
EJ of Corse, valid FINESS keys), are inserted directly in instruction's database, and those
establishments in financement's copy of the eligible base (in production they arrive as
CandidatureDeposee and EtablissementPublie events; 1 000 deposits through candidature would measure
candidature, not the lot). Every validation of the dry run has its own amorçage: the total is the
sum of N different establishments' amorçages, each paid once.

    .venv/bin/python bench/bench_lots.py [--dossiers 1000] [--sortie bench/results/bench_lots.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from hopen_common.devstack._util import free_port
from hopen_common.devstack.stack import SERVICES, Stack, StackConfig, find_repo_root
from hopen_common.finess import cle_finess_valide
from hopen_common.testing import finalement, jeton
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.quatre_yeux import decider_a_deux_sync
from hopen_financement.etablissements.models import EtablissementConnu as EtablissementFinancement
from hopen_instruction.models import Dossier

REGION = "94"  # Corse: N public EJ applying for themselves


def finess_de_banc(n: int) -> list[str]:
    """N FINESS of Corse with a valid key (not real establishments: 2A9xxxxxk)."""
    resultat = []
    for i in range(n):
        corps = f"2A9{i:05d}"
        resultat.append(next(corps + str(k) for k in range(10) if cle_finess_valide(corps + str(k))))
    return resultat


async def inserer(config: StackConfig, finess: list[str]) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in finess]
    instruction = create_async_engine(config.database_url("instruction"))
    async with instruction.begin() as conn:
        await conn.execute(insert(Dossier), [
            {"id": i, "dispositif": "phase1", "finess": f, "raison_sociale": f"bench {f}", "region": REGION,
             "objectifs": ["P1.O1", "P1.O2"], "domaines_sun_es": [], "perimetre": None,
             "statut": "deposee", "deposee_le": datetime(2025, 3, 1, tzinfo=UTC), "criteres_ght": None}
            for i, f in zip(ids, finess, strict=True)])
    await instruction.dispose()
    financement = create_async_engine(config.database_url("financement"))
    colonnes = {c.name for c in EtablissementFinancement.__table__.columns}
    async with financement.begin() as conn:
        await conn.execute(insert(EtablissementFinancement), [
            {k: v for k, v in etablissement_connu(f, region=REGION,
                                                  activite_combinee=Decimal(4000 + 37 * i)).items()
             if k in colonnes} for i, f in enumerate(finess)])
    await financement.dispose()
    return ids


def mesurer(client: httpx.Client, url: str, ids: list[str]) -> dict[str, Any]:
    ars = jeton("ars", region=REGION, sujet="bench-lots")
    corps = {"dossiers": ids, "decision": {"type": "candidature", "decision": "validee",
                                           "motivation": "benchmark des lots"}}
    debut = time.perf_counter()
    r = client.post(f"{url}/v1/lots", params={"simulation": "true"}, headers=ars, json=corps)
    simulation_s = time.perf_counter() - debut
    r.raise_for_status()
    sim = r.json()
    if sim["ok"] != len(ids) or not sim["montants_disponibles"]:
        raise RuntimeError(f"dry run: {sim['ok']} ok, amounts {sim['montants_disponibles']}")
    sans_montant = [d for d in sim["dossiers"] if not d["montants"]]
    if sans_montant:
        raise RuntimeError(f"dry run without amounts: {sans_montant[:1]}")
    # Each establishment's two objectives, each an amorçage, once; the lot's total is their exact sum.
    for d in sim["dossiers"]:
        if sorted((m["objectif"], m["nature"]) for m in d["montants"]) != [
                ("P1.O1", "amorcage"), ("P1.O2", "amorcage")]:
            raise RuntimeError(f"dry run: unexpected amounts {d}")
    somme = sum((Decimal(m["montant"]) for d in sim["dossiers"] for m in d["montants"]), Decimal("0.00"))
    if somme != Decimal(sim["total_montants"]):
        raise RuntimeError(f"dry run: total {sim['total_montants']} is not the sum {somme}")

    debut = time.perf_counter()
    # Two-person rule (ADR 0023): the instructeur's proposal (which runs the dry run again) and the
    # valideur's confirmation that queues the lot; the time measured covers both.
    r = decider_a_deux_sync(client, f"{url}/v1/lots", headers={**ars, "Idempotency-Key": "bench"}, json=corps)
    acceptation_s = time.perf_counter() - debut
    r.raise_for_status()
    lot_id = r.json()["id"]
    while True:
        lu = client.get(f"{url}/v1/lots/{lot_id}", headers=ars, params={"limit": 1}).raise_for_status().json()
        if lu["statut"] == "termine":
            break
        if time.perf_counter() - debut > 600:
            raise RuntimeError(f"lot not done after 600 s: {lu['traites']}/{lu['total']}")
        time.sleep(0.05)
    reel_s = time.perf_counter() - debut
    if lu["ok"] != len(ids):
        raise RuntimeError(f"real run: {lu['ok']} ok, {lu['refuses']} refused")
    return {"dossiers": len(ids), "simulation_s": round(simulation_s, 2),
            "simulation_total_montants": sim["total_montants"],
            "reel_acceptation_ms": round(acceptation_s * 1000, 1), "reel_termine_s": round(reel_s, 2),
            "reel_par_dossier_ms": round(reel_s * 1000 / len(ids), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--sortie", type=Path, default=Path("bench/results/bench_lots.json"))
    args = parser.parse_args()
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="hopen-bench-") as dossier:
        ports = {s: free_port() for s in SERVICES}
        config = StackConfig(root=find_repo_root(), data_dir=Path(dossier), pg_port=free_port(),
                             kafka_port=free_port(), kafka_controller_port=free_port(), service_ports=ports,
                             pg_fast=False)
        stack = Stack(config, console)
        stack.up()
        try:
            ids = asyncio.run(inserer(config, finess_de_banc(args.dossiers)))
            urls = {s: config.base_url(s) for s in SERVICES}
            with httpx.Client(timeout=600) as client:
                # Financement learns the applicant's AC from the referentiel's events: wait for it.
                finalement(lambda: client.post(
                    f"{urls['financement']}/v1/simulations/phase1", headers=jeton("dns"),
                    json={"activite_combinee": "1", "objectifs": ["P1.O1"]}).is_success,
                    en=120, quoi="financement's eligible base")
                resultat = mesurer(client, urls["instruction"], ids)
        finally:
            stack.stop()
    resultat["machine"] = "2 cores, 24 GiB; PostgreSQL with fsync on; one Kafka broker; the five services"
    args.sortie.parent.mkdir(parents=True, exist_ok=True)
    args.sortie.write_text(json.dumps(resultat, indent=2) + "\n")
    table = Table(title=f"lot of {resultat['dossiers']} candidature validations")
    for cle, valeur in resultat.items():
        table.add_row(cle, str(valeur))
    Console().print(table)


if __name__ == "__main__":
    main()
