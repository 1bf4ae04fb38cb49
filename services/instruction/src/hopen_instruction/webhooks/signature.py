"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com), the one place they are computed.

``webhook-signature`` = ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, the key being the
base64-decoded part of the secret after ``whsec_``; during a rotation every valid secret signs and the
signatures are space-separated, so a receiver holding either secret verifies the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIXE = "whsec_"
TAILLE_CLE = 32  # bytes: the spec asks for 24 to 64


def nouveau_secret() -> str:
    return PREFIXE + base64.b64encode(secrets.token_bytes(TAILLE_CLE)).decode()


def cle(secret: str) -> bytes:
    if not secret.startswith(PREFIXE):
        raise ValueError("un secret de webhook commence par whsec_")
    return base64.b64decode(secret[len(PREFIXE):])


def signer(secret: str, *, identifiant: str, horodatage: int, corps: bytes) -> str:
    """One ``v1,<base64>`` signature of the body as sent (bytes: never re-serialised)."""
    message = f"{identifiant}.{horodatage}.".encode() + corps
    return "v1," + base64.b64encode(hmac.new(cle(secret), message, hashlib.sha256).digest()).decode()


def entetes(secrets_valides: Sequence[str], *, identifiant: str, horodatage: int, corps: bytes
            ) -> dict[str, str]:
    """The three headers of one delivery: every valid secret signs (newest first)."""
    if not secrets_valides:
        raise ValueError("aucun secret valide pour signer")
    return {
        "webhook-id": identifiant,
        "webhook-timestamp": str(horodatage),
        "webhook-signature": " ".join(signer(s, identifiant=identifiant, horodatage=horodatage, corps=corps)
                                      for s in secrets_valides),
    }
