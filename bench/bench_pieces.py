"""Upload and download throughput of a 20 MiB piece, and the candidature service's peak memory.

Starts a real PostgreSQL (or reuses one: --pg-port), a Kafka broker (the app's producer needs one;
the workers stay off), with --s3 a SeaweedFS server, and the candidature service under uvicorn in
its own process, on the files backend (a temporary folder) or SeaweedFS. One phase-1 candidature,
then N uploads of a 20 MiB PDF (streamed by the client in 1 MiB chunks: multipart/form-data) and
N downloads (streamed, hashed by the client against the server's SHA-256). The service's RSS is
sampled every 10 ms from /proc during the transfers: it must not grow by the size of the file.

    .venv/bin/python bench/bench_pieces.py [--repetitions 5] [--taille-mio 20] [--s3] [--pg-port P]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
from _postgres import base_migree, grappe_de_banc  # bench/, the script's folder

from hopen_common.devstack._util import free_port
from hopen_common.devstack.stack import find_repo_root
from hopen_common.testing import jeton

RACINE = find_repo_root()
FINESS = "2A0002606"  # a public EJ outside a GHT (region 94), seeded in the local referentiel copy
MIO = 1024 * 1024
LIMITE = "xXbenchXx"


def _base(pg_port: int | None, dossier: Path) -> tuple[str, object | None]:
    admin, port, cluster = grappe_de_banc(pg_port, dossier, fast=True)
    return base_migree(admin, port, "candidature", "bench_pieces"), cluster


def _semer(url: str) -> None:
    from decimal import Decimal

    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from hopen_candidature.models import EtablissementConnu

    async def semer() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(insert(EtablissementConnu).values(
                finess=FINESS, finess_ej=FINESS, raison_sociale="CH de Sartène", region="94",
                secteur="public", niveau="EJ", finess_pmsi=FINESS, activite_combinee=Decimal("5000"),
                eligible_phase1=True, maille_phase1=FINESS, domaines_sun_es=[], ferme=False))
        await engine.dispose()
    asyncio.run(semer())


class Echantillonneur(threading.Thread):
    """Peak RSS of a process, sampled from /proc every `pas` seconds between start() and arreter()."""

    def __init__(self, pid: int, pas: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.processus = psutil.Process(pid)
        self.pas = pas
        self.pic = 0
        self._fin = threading.Event()

    def run(self) -> None:
        while not self._fin.is_set():
            self.pic = max(self.pic, self.processus.memory_info().rss)
            time.sleep(self.pas)

    def arreter(self) -> int:
        self._fin.set()
        self.join()
        return self.pic


def _corps(donnees: bytes, morceau: int = MIO) -> Iterator[bytes]:
    yield (f"--{LIMITE}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nP1.P4\r\n"
           f"--{LIMITE}\r\nContent-Disposition: form-data; name=\"fichier\";"
           " filename=\"questionnaire.pdf\"\r\n"
           "Content-Type: application/pdf\r\n\r\n").encode()
    vue = memoryview(donnees)
    for i in range(0, len(donnees), morceau):
        yield bytes(vue[i:i + morceau])
    yield f"\r\n--{LIMITE}--\r\n".encode()


def _attendre(url: str, processus: subprocess.Popen[bytes], journal: Path) -> None:
    limite = time.monotonic() + 60
    while time.monotonic() < limite:
        if processus.poll() is not None:
            raise SystemExit(f"the service exited: {journal.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the service did not start: {journal.read_text()[-3000:]}")


def mesurer(url: str, pid: int, repetitions: int, taille: int) -> tuple[dict[str, float], int, int]:
    """Throughputs, the service's RSS once warm, and its peak during the 20 MiB transfers."""
    from hopen_common.testing.fichiers import pdf_de_taille

    donnees = pdf_de_taille(taille)
    sha = hashlib.sha256(donnees).hexdigest()
    es = jeton("etablissement", finess=[FINESS])
    with httpx.Client(base_url=url, timeout=120) as client:
        r = client.post("/v1/candidatures", headers=es,
                        json={"dispositif": "phase1", "finess": FINESS, "objectifs": ["P1.O1"]})
        r.raise_for_status()
        chemin = f"/v1/candidatures/{r.json()['id']}/pieces"
        entetes = {**es, "Content-Type": f"multipart/form-data; boundary={LIMITE}"}
        # Warm-up (imports, connection pools, first allocations): the baseline is taken after it.
        piece = client.post(chemin, headers=entetes, content=_corps(donnees[: 256 * 1024])).json()
        client.get(f"{chemin}/{piece['id']}/contenu", headers=es).raise_for_status()
        rss_avant = psutil.Process(pid).memory_info().rss
        echantillons = Echantillonneur(pid)
        echantillons.start()
        try:
            resultats = _transferts(client, chemin, entetes, es, donnees, sha, repetitions)
        finally:
            pic = echantillons.arreter()
    return resultats, rss_avant, pic


def _transferts(client: httpx.Client, chemin: str, entetes: dict[str, str], es: dict[str, str],
                donnees: bytes, sha: str, repetitions: int) -> dict[str, float]:
    montees: list[float] = []
    descentes: list[float] = []
    ids: list[str] = []
    for _ in range(repetitions):
        debut = time.perf_counter()
        r = client.post(chemin, headers=entetes, content=_corps(donnees))
        montees.append(time.perf_counter() - debut)
        r.raise_for_status()
        if r.json()["sha256"] != sha:
            raise SystemExit("the server's SHA-256 differs from the file's")
        ids.append(r.json()["id"])
    for piece_id in ids:
        h = hashlib.sha256()
        debut = time.perf_counter()
        with client.stream("GET", f"{chemin}/{piece_id}/contenu", headers=es) as reponse:
            reponse.raise_for_status()
            for morceau in reponse.iter_bytes():
                h.update(morceau)
        descentes.append(time.perf_counter() - debut)
        if h.hexdigest() != sha:
            raise SystemExit("downloaded bytes differ")
    mio = len(donnees) / MIO
    return {"montee_mio_s": mio / statistics.median(montees),
            "descente_mio_s": mio / statistics.median(descentes),
            "montee_min_s": min(montees), "descente_min_s": min(descentes)}


def main() -> int:
    analyseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    analyseur.add_argument("--repetitions", type=int, default=5)
    analyseur.add_argument("--taille-mio", type=float, default=20.0)
    analyseur.add_argument("--s3", action="store_true", help="store on a SeaweedFS server (S3)")
    analyseur.add_argument("--pg-port", type=int, default=None)
    options = analyseur.parse_args()
    taille = int(options.taille_mio * MIO)
    with tempfile.TemporaryDirectory(prefix="bench-pieces-") as tmp:
        dossier = Path(tmp)
        url_base, cluster = _base(options.pg_port, dossier)
        _semer(url_base)
        from hopen_common.devstack.kafka import KafkaBroker
        port_kafka, controleur = free_port(), free_port()
        kafka = KafkaBroker(dossier / "kafka", port_kafka, controleur, RACINE / "deploy" / "kafka")
        kafka.start()
        seaweed = None
        env = {**os.environ, "CANDIDATURE_DATABASE_URL": url_base,
               "CANDIDATURE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
               "CANDIDATURE_WORKERS_IN_PROCESS": "false", "CANDIDATURE_CALENDRIER_OUVERT": "true",
               "CANDIDATURE_ENVIRONMENT": "development",
               "CANDIDATURE_STOCKAGE_TAILLE_MAX": str(taille + MIO)}
        if options.s3:
            from hopen_common.devstack.seaweedfs import SeaweedServer
            seaweed = SeaweedServer(dossier / "seaweedfs", RACINE / "deploy" / "seaweedfs")
            seaweed.start()
            seaweed.create_bucket("bench-pieces")
            env |= {"CANDIDATURE_STOCKAGE_URL": "s3://bench-pieces/candidature",
                    "CANDIDATURE_STOCKAGE_S3_ENDPOINT": seaweed.endpoint,
                    "CANDIDATURE_STOCKAGE_S3_ACCESS_KEY": seaweed.access_key,
                    "CANDIDATURE_STOCKAGE_S3_SECRET_KEY": seaweed.secret_key}
        else:
            env["CANDIDATURE_STOCKAGE_URL"] = f"file://{dossier / 'stockage'}"
        port = free_port()
        journal = dossier / "uvicorn.log"
        with journal.open("wb") as sortie:
            service = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "hopen_candidature.main:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                env=env, stdout=sortie, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _attendre(url, service, journal)
            resultats, rss_avant, pic = mesurer(url, service.pid, options.repetitions, taille)
        finally:
            service.terminate()
            service.wait(timeout=30)
            if seaweed is not None:
                seaweed.stop()
            kafka.stop()
            if cluster is not None:
                cluster.stop()  # type: ignore[attr-defined]
    backend = "SeaweedFS (S3)" if options.s3 else "fichiers"
    print(f"pièce de {options.taille_mio:g} Mio, {options.repetitions} répétitions, stockage {backend}")
    print(f"téléversement : {resultats['montee_mio_s']:.0f} Mio/s (médiane ;"
          f" meilleur {resultats['montee_min_s'] * 1000:.0f} ms)")
    print(f"téléchargement : {resultats['descente_mio_s']:.0f} Mio/s (médiane ;"
          f" meilleur {resultats['descente_min_s'] * 1000:.0f} ms)")
    print(f"RSS du service : {rss_avant / MIO:.0f} Mio au départ, pic {pic / MIO:.0f} Mio"
          f" (+{(pic - rss_avant) / MIO:.1f} Mio pendant les transferts)")
    if pic - rss_avant >= taille * 0.75:
        print("ÉCHEC : la mémoire du service a crû de l'ordre de la taille du fichier")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
