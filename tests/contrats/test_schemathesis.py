"""schemathesis on the five services (issue 12 item 3): every check, positive and negative data, the
stateful phase, against the running stack (real PostgreSQL, Kafka), as the DNS and as an ARS agent,
with a bounded number of examples. Zero failures: no server error, no response outside its schema, no
undocumented status code or content type. The counts go to `.hopen/schemathesis.txt` for the README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hopen_common.auth.tokens import mint_dev_token
from hopen_common.settings import DEV_JWT_SECRET
from hopen_common.testing import RunningStack

pytestmark = pytest.mark.e2e

RACINE = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXEMPLES = 5  # per operation and phase: the whole run stays within a few minutes
JETONS = {
    "dns": mint_dev_token(role="dns", finess=[], region=None, subject="st-dns", secret=DEV_JWT_SECRET),
    "ars": mint_dev_token(role="ars", finess=[], region="94", subject="st-ars", profils=["instructeur"],
                          secret=DEV_JWT_SECRET),
}


def _lancer(url: str, jeton: str) -> tuple[int, str]:
    st = Path(sys.executable).with_name("st")
    commande = [str(st), "--config-file", str(CONFIG), "run", f"{url}/openapi.json", "--checks", "all",
                "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(EXEMPLES),
                "--seed", "20261203", "--no-color", "--request-timeout", "20",
                "-H", f"Authorization: Bearer {jeton}"]
    fait = subprocess.run(commande, capture_output=True, text=True, timeout=600, cwd=RACINE, check=False)
    return fait.returncode, fait.stdout + fait.stderr


@pytest.mark.parametrize("service", ["referentiel", "candidature", "instruction", "financement", "reporting"])
@pytest.mark.parametrize("role", sorted(JETONS))
def test_schemathesis_sans_echec(running_stack: RunningStack, service: str, role: str) -> None:
    code, sortie = _lancer(running_stack.urls[service], JETONS[role])
    resume = re.search(r"Test cases:\s*\n\s*(.+)", sortie)
    ligne = f"{service} {role}: {resume.group(1).strip() if resume else '?'}"
    journal = RACINE / ".hopen" / "schemathesis.txt"
    journal.parent.mkdir(exist_ok=True)
    with journal.open("a", encoding="utf-8") as f:
        f.write(ligne + "\n")
    assert code == 0, sortie[-12000:]
