"""Rights granted in the referentiel reach every service over the real Kafka (issue 10, ADR 0022).

A real token of the real OIDC provider, for a person without rights, is 403 sans-habilitation in every
service; the DNS grants the person an ARS valideur habilitation in the referentiel; within seconds
each service answers the same token within the region; a change of region moves what it sees; a
revocation makes every service refuse it again. The provider says who; our tables say what.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from hopen_common.testing import RunningStack, finalement, jeton

pytestmark = pytest.mark.e2e

DNS = jeton("dns", sujet="dns-e2e-habilitations")


def _lectures(urls: dict[str, str], region: str) -> dict[str, str]:
    """One read per service that an ARS agent of `region` may make."""
    return {
        "referentiel": f"{urls['referentiel']}/v1/habilitations/moi",
        "candidature": f"{urls['candidature']}/v1/candidatures?limit=1",
        "instruction": f"{urls['instruction']}/v1/dossiers?limit=1",
        "financement": f"{urls['financement']}/v1/enveloppes",
        "reporting": f"{urls['reporting']}/v1/regions/{region}/synthese",
    }


def _statuts(client: httpx.Client, lectures: dict[str, str], entete: dict[str, str]) -> dict[str, int]:
    return {service: client.get(url, headers=entete).status_code for service, url in lectures.items()}


def test_habilitation_accordee_puis_revoquee_partout(running_stack: RunningStack) -> None:
    oidc = running_stack.oidc
    assert oidc is not None
    urls = running_stack.urls
    sujet = f"agent-{uuid.uuid4().hex[:8]}"
    with httpx.Client(timeout=15) as client:
        entete = oidc.entete(sujet)
        lectures = _lectures(urls, "94")
        # A valid token of the provider, no rights anywhere: 403 sans-habilitation, in every service.
        for service, url in lectures.items():
            r = client.get(url, headers=entete)
            assert r.status_code == 403, (service, r.text)
            assert r.json()["type"].endswith("/sans-habilitation"), (service, r.text)

        r = client.post(f"{urls['referentiel']}/v1/habilitations", headers=DNS, json={
            "emetteur": oidc.issuer, "sujet": sujet, "role": "ars", "region": "94",
            "profils": ["valideur"], "nom": "Agent de test", "motivation": "arrivée à l'ARS de Corse"})
        assert r.status_code == 201, r.text
        habilitation = r.json()

        # Each service learns it from the event: the same token now reads the region.
        finalement(lambda: set(_statuts(client, lectures, entete).values()) == {200}, en=60,
                   quoi="habilitation known to the five services")
        # The rights are the habilitation's: Corse only (another region's synthesis is 403/404).
        autre = client.get(f"{urls['reporting']}/v1/regions/11/synthese", headers=entete)
        assert autre.status_code in (403, 404), autre.text

        # Moved to Île-de-France: Corse is out of reach, Île-de-France in reach.
        r = client.patch(f"{urls['referentiel']}/v1/habilitations/{habilitation['id']}", headers=DNS,
                         json={"region": "11", "motivation": "mutation à l'ARS d'Île-de-France"})
        assert r.status_code == 200, r.text
        finalement(lambda: client.get(f"{urls['reporting']}/v1/regions/11/synthese",
                                      headers=entete).status_code == 200, en=60, quoi="region change applied")
        corse = client.get(f"{urls['reporting']}/v1/regions/94/synthese", headers=entete)
        assert corse.status_code in (403, 404), corse.text

        r = client.post(f"{urls['referentiel']}/v1/habilitations/{habilitation['id']}/revocation",
                        headers=DNS, json={"motivation": "départ de l'agent"})
        assert r.status_code == 200, r.text
        lectures = _lectures(urls, "11")
        finalement(lambda: set(_statuts(client, lectures, entete).values()) == {403}, en=60,
                   quoi="revocation applied in the five services")
