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
    # "<type>/v<version>": which payload schema version `data` follows.
    dataschema: str
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


def nouvel_evenement(
    payload: BaseModel,
    *,
    source: str,
    subject: str,
    causation: Evenement | None = None,
    correlationid: str | None = None,
) -> Evenement:
    """Wrap a registered payload; causation/correlation chain from the event that caused it."""
    from hopen_common.events.registry import schema_de

    type_, version = schema_de(type(payload))
    return Evenement(
        source=source,
        type=type_,
        subject=subject,
        dataschema=f"{type_}/v{version}",
        correlationid=(causation.correlationid or causation.id) if causation else correlationid,
        causationid=causation.id if causation else None,
        data=payload.model_dump(mode="json"),
    )
