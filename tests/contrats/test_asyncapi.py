"""The published AsyncAPI document is the contract in force: every event is on one topic, and
docs/asyncapi.json is what the code generates (regenerate: python -m hopen_common.asyncapi)."""

from __future__ import annotations

import json
from collections import Counter

from hopen_common.asyncapi import document
from hopen_common.contracts.topics import EVENEMENTS_PAR_TOPIC, Topics
from hopen_common.devstack.stack import find_repo_root
from hopen_common.events.registry import modeles_enregistres


def test_chaque_evenement_sur_un_seul_topic() -> None:
    declares = Counter(t for types in EVENEMENTS_PAR_TOPIC.values() for t in types)
    assert [t for t, n in declares.items() if n > 1] == []
    assert set(declares) == {type_ for type_, _ in modeles_enregistres()}
    assert set(EVENEMENTS_PAR_TOPIC) == set(Topics)


def test_document_publie_a_jour() -> None:
    publie = json.loads((find_repo_root() / "docs" / "asyncapi.json").read_text())
    assert publie == json.loads(json.dumps(document())), (
        "docs/asyncapi.json is stale: python -m hopen_common.asyncapi > docs/asyncapi.json")
    assert publie["channels"]["dossier"]["address"] == "hopen.instruction.dossier"
    valide = publie["components"]["messages"]["CandidatureValidee.v1"]
    assert valide["payload"]["allOf"][1]["properties"]["dataschema"] == {"const": "CandidatureValidee/v1"}
