"""schemathesis on the five services (issue 12 item 3): every check, positive and negative data, the
stateful phase over the inferred links, against the running stack (real PostgreSQL, Kafka), as the
DNS (every operation in reach), with a bounded number of examples so that the run stays within a few
minutes. Zero failures: no server error, no response outside its schema, no undocumented status code
or content type. The ARS role and more examples: bench/schemathesis_complet.py (figures in the
README). The counts go to `.hopen/schemathesis.txt`."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopen_common.auth.tokens import mint_dev_token
from hopen_common.settings import DEV_JWT_SECRET
from hopen_common.testing import RunningStack
from hopen_common.testing.schemathesis import lancer

pytestmark = pytest.mark.e2e

RACINE = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXEMPLES = 5  # per operation and phase


@pytest.mark.timeout(900)  # five services' runs, a few minutes together on two cores
def test_schemathesis_sans_echec(running_stack: RunningStack) -> None:
    jeton = mint_dev_token(role="dns", finess=[], region=None, subject="st-dns", secret=DEV_JWT_SECRET)
    resultats = lancer(running_stack.urls, jeton, config=CONFIG, exemples=EXEMPLES, racine=RACINE)
    journal = RACINE / ".hopen" / "schemathesis.txt"
    journal.parent.mkdir(exist_ok=True)
    journal.write_text("".join(f"{r.service} dns: {r.resume}\n" for r in resultats), encoding="utf-8")
    echecs = [r for r in resultats if r.code != 0]
    assert not echecs, "\n\n".join(f"--- {r.service} ---\n{r.sortie[-8000:]}" for r in echecs)
