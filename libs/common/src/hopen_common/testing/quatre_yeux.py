"""Tests under the two-person rule (issue 10, ADR 0023): a decision that moves money is proposed by an
instructeur and confirmed by a valideur. `decider_a_deux` does both and returns what the decision
endpoint answered before the rule, so a test asserts the decision, not the ceremony."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from hopen_common.testing.outils import jeton


def valideur(region: str, sujet: str | None = None) -> dict[str, str]:
    """A valideur of `region` (another person than any instructeur of the tests)."""
    return jeton("ars", region=region, sujet=sujet or f"valideur-{region}", profils=["valideur"])


def _valideur_de(entetes: dict[str, str]) -> dict[str, str]:
    claims = jwt.decode(entetes["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    return valideur(str(claims["region"]))


def _confirmation(url: str, proposition_id: str) -> str:
    parties = urlsplit(url)
    base = f"{parties.scheme}://{parties.netloc}" if parties.netloc else ""
    return f"{base}/v1/propositions/{proposition_id}/confirmation"


def _resultat(proposition: httpx.Response, confirmation: httpx.Response) -> httpx.Response:
    if confirmation.status_code not in (201, 202):
        return confirmation
    return httpx.Response(confirmation.status_code, json=confirmation.json()["decision"],
                          headers={"X-Proposition-Id": proposition.json()["proposition_id"]},
                          request=proposition.request)


def _preparer(url: str, reponse: httpx.Response, headers: dict[str, str], par: dict[str, str] | None
              ) -> tuple[str, dict[str, str]] | None:
    if reponse.status_code != 202 or "proposition_id" not in reponse.json():
        return None  # refused at proposal time (as before the rule), or not a proposal
    pid = reponse.json()["proposition_id"]
    # A replayed proposal (its Idempotency-Key) replays its confirmation too: the same decision.
    entetes = {**(par or _valideur_de(headers)), "Idempotency-Key": f"confirmer-{pid}"}
    return _confirmation(url, pid), entetes


async def decider_a_deux(client: httpx.AsyncClient, url: str, *, headers: dict[str, str], json: Any,
                         valideur: dict[str, str] | None = None) -> httpx.Response:
    """POST `url` as `headers` (an instructeur), then confirm as `valideur` (by default the valideur of
    the instructeur's region): the confirmation's decision as an httpx.Response, or the refusal."""
    r = await client.post(url, headers=headers, json=json)
    suite = _preparer(url, r, headers, valideur)
    if suite is None:
        return r
    return _resultat(r, await client.post(suite[0], headers=suite[1], json={}))


def decider_a_deux_sync(client: httpx.Client, url: str, *, headers: dict[str, str], json: Any,
                        valideur: dict[str, str] | None = None) -> httpx.Response:
    r = client.post(url, headers=headers, json=json)
    suite = _preparer(url, r, headers, valideur)
    if suite is None:
        return r
    return _resultat(r, client.post(suite[0], headers=suite[1], json={}))
