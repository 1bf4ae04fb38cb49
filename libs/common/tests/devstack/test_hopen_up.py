"""`hopen up` in the foreground: serves the five services, and SIGTERM (or Ctrl-C's SIGINT)
stops every process it started, PostgreSQL (daemonised by pg_ctl) included: no orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from hopen_common.devstack._util import free_port, pid_alive, port_in_use
from hopen_common.devstack.stack import SERVICES, find_repo_root

PRET = "Ctrl-C stops the stack."


def _descendants(racine: int) -> set[int]:
    enfants: dict[int, list[int]] = {}
    for entree in Path("/proc").iterdir():
        if not entree.name.isdigit():
            continue
        try:
            ppid = int((entree / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        enfants.setdefault(ppid, []).append(int(entree.name))
    trouves, a_voir = set(), [racine]
    while a_voir:
        for enfant in enfants.get(a_voir.pop(), []):
            if enfant not in trouves:
                trouves.add(enfant)
                a_voir.append(enfant)
    return trouves


def _ports_consecutifs(n: int) -> int:
    for _ in range(50):
        base = free_port()
        if base + n < 65000 and not any(port_in_use(base + i) for i in range(n)):
            return base
    raise RuntimeError("no free range of ports")


@pytest.mark.parametrize("signal_arret", [signal.SIGTERM, signal.SIGINT])
def test_hopen_up_sert_puis_s_arrete_sans_orphelin(tmp_path: Path, signal_arret: signal.Signals) -> None:
    racine = find_repo_root()
    base = _ports_consecutifs(len(SERVICES))
    ports = {"pg": free_port(), "kafka": free_port(), "controleur": free_port(), "oidc": free_port(),
             "smtp": free_port()}
    journal = tmp_path / "up.log"
    with journal.open("w") as sortie:
        proc = subprocess.Popen(
            [str(racine / ".venv" / "bin" / "hopen"), "up", "--data-dir", str(tmp_path / "data"),
             "--pg-port", str(ports["pg"]), "--kafka-port", str(ports["kafka"]),
             "--kafka-controller-port", str(ports["controleur"]), "--base-port", str(base),
             "--oidc-port", str(ports["oidc"]), "--smtp-port", str(ports["smtp"])],
            stdout=sortie, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=racine)
    try:
        debut = time.monotonic()
        while PRET not in journal.read_text(errors="replace"):
            assert proc.poll() is None, journal.read_text()
            assert time.monotonic() - debut < 240, journal.read_text()
            time.sleep(0.3)
        for i, service in enumerate(SERVICES):
            r = httpx.get(f"http://127.0.0.1:{base + i}/health/ready", timeout=5)
            assert r.status_code == 200, (service, r.text)
        r = httpx.get(f"http://127.0.0.1:{base}/v1/etablissements", params={"limit": 1}, timeout=5,
                      headers={"Authorization": "Bearer " + subprocess.run(
                          [str(racine / ".venv" / "bin" / "hopen"), "token", "--role", "dns"],
                          capture_output=True, text=True, check=True).stdout.strip()})
        assert r.json()["total"] > 30  # the demo establishments are loaded
        # The stack's OIDC provider is trusted by every service: its real token is verified, then
        # resolved by our habilitations (ADR 0019, 0022): alice is a demo instructeur of Corse, an
        # unknown person is refused for want of rights.
        emetteur = f"http://127.0.0.1:{ports['oidc']}"
        assert emetteur in journal.read_text()
        for sujet, attendu in (("alice", 200), ("personne-inconnue", 403)):
            oidc = subprocess.run([str(racine / ".venv" / "bin" / "hopen"), "oidc-token", "--subject", sujet,
                                   "--issuer", emetteur], capture_output=True, text=True, check=True)
            r = httpx.get(f"http://127.0.0.1:{base}/v1/etablissements", params={"limit": 1}, timeout=5,
                          headers={"Authorization": "Bearer " + oidc.stdout.strip()})
            assert r.status_code == attendu, (sujet, r.text)
        enfants = _descendants(proc.pid)
        pid_postgres = int((tmp_path / "data" / "pg" / "postmaster.pid").read_text().split()[0])
        assert len(enfants) >= len(SERVICES) + 1  # uvicorn x5 and the Kafka JVM at least
        os.kill(proc.pid, signal_arret)
        assert proc.wait(timeout=180) == 0, journal.read_text()
    finally:
        # A failed assertion above must not leave the stack's children behind for the next test:
        # ask hopen up to stop cleanly first, kill only if it does not.
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
    time.sleep(0.5)
    survivants = [p for p in [*enfants, pid_postgres] if pid_alive(p)]
    assert survivants == [], journal.read_text()
    occupes = [p for p in [*ports.values(), *(base + i for i in range(len(SERVICES)))] if port_in_use(p)]
    assert occupes == []
    assert "stack stopped." in journal.read_text()
