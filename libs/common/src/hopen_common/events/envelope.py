"""CloudEvents 1.0 structured-mode envelope (JSON), plus our tracing extensions.

We keep the envelope as a Pydantic model rather than the cloudevents SDK's
object so that one validation layer (Pydantic) covers envelope and payload and
the JSON on the wire is exactly CloudEvents structured mode.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Evenement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    # "<type>/v<version>": which payload schema version `data` follows. Checked here, so that an
    # envelope from outside (a simulation's body, a poison record) is refused as such, not later.
    dataschema: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,99}/v[0-9]{1,4}$")
    correlationid: str | None = None
    causationid: str | None = None
    data: dict[str, Any]

    @property
    def version(self) -> int:
        return int(self.dataschema.rsplit("/v", 1)[1])

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Evenement:
        return cls.model_validate_json(raw)


def enveloppe(
    modele: type[BaseModel],
    data: dict[str, Any],
    *,
    source: str,
    subject: str,
    time: datetime,
    identifiant: str | None = None,
    correlationid: str | None = None,
    causationid: str | None = None,
) -> dict[str, Any]:
    """The envelope of a registered payload as a JSON-ready dict: the one place its shape is
    written. Bulk producers (reference-data imports) encode it themselves, fast; `data` must
    then be what `modele` dumps (their tests validate it against the model)."""
    from hopen_common.events.registry import schema_de

    type_, version = schema_de(modele)
    return {
        "specversion": "1.0",
        "id": identifiant or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "subject": subject,
        "time": time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": f"{type_}/v{version}",
        "correlationid": correlationid,
        "causationid": causationid,
        "data": data,
    }


def nouvel_evenement(
    payload: BaseModel,
    *,
    source: str,
    subject: str,
    causation: Evenement | None = None,
    correlationid: str | None = None,
) -> Evenement:
    """Wrap a registered payload; causation/correlation chain from the event that caused it."""
    return Evenement.model_validate(enveloppe(
        type(payload), payload.model_dump(mode="json"), source=source, subject=subject,
        time=datetime.now(UTC),
        correlationid=(causation.correlationid or causation.id) if causation else correlationid,
        causationid=causation.id if causation else None,
    ))
