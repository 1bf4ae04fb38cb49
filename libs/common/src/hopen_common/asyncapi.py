"""The AsyncAPI 3.0 document of every topic and event, generated from the contracts.

`python -m hopen_common.asyncapi > docs/asyncapi.json`; a test fails when the committed
document and the code disagree, so the document is always the contract in force.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import hopen_common.contracts  # noqa: F401  (registers every payload)
from hopen_common.contracts.topics import CLE_PAR_TOPIC, EVENEMENTS_PAR_TOPIC
from hopen_common.events.envelope import Evenement
from hopen_common.events.registry import modeles_enregistres

REF = "#/components/schemas/{model}"


def document() -> dict[str, Any]:
    modeles = modeles_enregistres()  # (type, version) -> payload model
    par_type: dict[str, list[tuple[int, Any]]] = {}
    for (type_, version), modele in sorted(modeles.items()):
        par_type.setdefault(type_, []).append((version, modele))
    tous: list[type[BaseModel]] = sorted({*modeles.values(), Evenement}, key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "serialization") for m in tous], ref_template=REF)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, types in EVENEMENTS_PAR_TOPIC.items():
        canal = topic.name.lower()
        refs = {}
        for type_ in types:
            for version, modele in par_type.get(type_, []):
                nom = f"{type_}.v{version}"
                refs[nom] = {"$ref": f"#/components/messages/{nom}"}
                messages[nom] = {
                    "name": type_,
                    "title": f"{type_} v{version}",
                    "summary": (modele.__doc__ or type_).strip().splitlines()[0],
                    "contentType": "application/cloudevents+json",
                    "payload": {"allOf": [
                        {"$ref": REF.format(model="Evenement")},
                        {"type": "object", "properties": {
                            "type": {"const": type_},
                            "dataschema": {"const": f"{type_}/v{version}"},
                            "data": {"$ref": REF.format(model=modele.__name__)},
                        }},
                    ]},
                    "bindings": {"kafka": {"key": {"type": "string", "description": CLE_PAR_TOPIC[topic]}}},
                }
        channels[canal] = {"address": topic.value, "description": f"Kafka key: {CLE_PAR_TOPIC[topic]}",
                           "messages": refs}
        operations[f"publier_{canal}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{canal}"},
            "messages": [{"$ref": f"#/channels/{canal}/messages/{nom}"} for nom in refs],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "HOP'EN 2 platform events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 structured-mode envelopes on Apache Kafka. Topics are "
                           "hopen.<producing service>.<aggregate>; a consumer accepts the "
                           "(type, dataschema) it knows and parks the rest in hopen.dlq.<consumer>.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka",
                              "description": "the native stack of `make up`"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas["$defs"]},
    }


def main() -> None:
    print(json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True))  # noqa: T201


if __name__ == "__main__":
    main()
