"""Issue 9: a corrected decision through the running services. The ARS validates a phase-1
candidature, financement pays the amorçage; the ARS corrects its validation into a refusal naming
it (`remplace`): financement takes the amorçage back by a reprise line (the next version of the solde
key), the amorçage line is untouched, and the notification says which decision it follows from and
which it replaces."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from hopen_common.testing import RunningStack, finalement, jeton
from hopen_common.testing.pieces import deposer_avec_pieces_sync
from hopen_common.testing.quatre_yeux import decider_a_deux_sync

pytestmark = pytest.mark.e2e

AMIENS = "800016727"  # SSR Pauchet Amiens, private EG, region 32 (Hauts-de-France)


def test_validation_corrigee_en_refus_reprise(running_stack: RunningStack) -> None:
    urls = running_stack.urls
    es, ars = jeton("etablissement", finess=[AMIENS]), jeton("ars", region="32", sujet="instructeur-hdf")
    with httpx.Client(timeout=15) as client:
        def creer() -> str | None:
            r = client.post(f"{urls['candidature']}/v1/candidatures", headers=es,
                            json={"dispositif": "phase1", "finess": AMIENS, "objectifs": ["P1.O1"]})
            if r.status_code == 422 and "inconnu du référentiel" in r.text:
                return None
            assert r.status_code == 201, r.text
            return str(r.json()["id"])
        cid = finalement(creer, en=60, quoi="establishment known to candidature")
        r = deposer_avec_pieces_sync(client, f"{urls['candidature']}/v1/candidatures/{cid}", es)
        assert r.status_code == 200, r.text
        finalement(lambda: client.get(f"{urls['instruction']}/v1/dossiers/{cid}", headers=ars).is_success,
                   quoi="dossier in instruction")
        r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                        json={"decision": "validee", "motivation": "dossier complet"})
        assert r.status_code == 201, r.text
        validation = r.json()["id"]

        def lignes(n: int) -> list[dict[str, object]] | None:
            r = client.get(f"{urls['financement']}/v1/financements", params={"finess": AMIENS}, headers=es)
            assert r.status_code == 200, r.text
            items: list[dict[str, object]] = r.json()["items"]
            return items if len(items) >= n else None
        (amorcage,) = finalement(lambda: lignes(1), en=60, quoi="amorcage notified")

        r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                        json={"decision": "validee", "motivation": "bis"})
        assert r.status_code == 409, r.text
        assert r.json()["champ"] == "remplace"
        r = decider_a_deux_sync(client, f"{urls['instruction']}/v1/dossiers/{cid}/decision", headers=ars,
                        json={"decision": "refusee", "remplace": validation,
                              "motivation": "l'EG n'est pas la maille de son activité"})
        assert r.status_code == 201, r.text
        refus = r.json()["id"]

        courantes = finalement(lambda: lignes(2), en=60, quoi="reprise notified")
        reprise = next(li for li in courantes if li["nature"] == "reprise")
        assert next(li for li in courantes if li["nature"] == "amorcage") == amorcage  # never edited
        assert reprise["montant"] == amorcage["montant"]
        assert reprise["calcul"]["decision_remplacee"] == validation
        net = sum(Decimal(str(li["montant"])) * (-1 if li["nature"] == "reprise" else 1) for li in courantes)
        assert net == Decimal("0.00")
        notification = client.get(f"{urls['financement']}/v1/notifications/{reprise['notification_id']}",
                                  headers=es).json()
        assert notification["decision_id"] == refus
        assert validation in notification["motif"]
        assert notification["montant_net"] == f"-{amorcage['montant']}"
