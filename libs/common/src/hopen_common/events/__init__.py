"""The CloudEvents envelope every event travels in, and the registry of known payloads."""

from hopen_common.events.envelope import Evenement, enveloppe, nouvel_evenement
from hopen_common.events.registry import (
    EvenementInconnuError,
    PayloadInvalideError,
    decoder_payload,
    enregistrer,
    schema_de,
)

__all__ = [
    "Evenement",
    "EvenementInconnuError",
    "PayloadInvalideError",
    "decoder_payload",
    "enveloppe",
    "enregistrer",
    "nouvel_evenement",
    "schema_de",
]
