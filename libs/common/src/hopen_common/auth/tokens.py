"""Development tokens (HS256, local key). Production tokens come from the identity provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ISSUER_DEV = "hopen-dev"
AUDIENCE = "hopen"


def mint_dev_token(
    *,
    role: str,
    finess: list[str],
    region: str | None,
    subject: str,
    secret: str,
    profils: list[str] | None = None,
    referent: bool = False,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    from hopen_common.auth.principal import Principal, Profil, Role

    # Validate the claims the same way the services will read them.
    Principal(subject=subject, role=Role(role), finess=tuple(finess), region=region,
              profils=frozenset(Profil(p) for p in profils or ()), referent=referent)
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER_DEV,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + ttl,
        "role": role,
        "finess": finess,
        "region": region,
        "profils": list(profils or []),
    }
    if referent:  # absent otherwise: the tokens minted before the flag keep their exact claims
        claims["referent"] = True
    return jwt.encode(claims, secret, algorithm="HS256")
