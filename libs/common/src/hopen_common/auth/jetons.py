"""Token verification (issue 10, ADR 0019): who is calling, proven, or a 401 saying what is wrong.

A token is accepted only from a trusted issuer (`jwt_emetteurs`: issuer -> its JWKS), with that
issuer's algorithms (asymmetric for an identity provider; HS256 only for the development issuer
`hopen-dev`, which production never trusts), a `typ` of `JWT` or `at+jwt` (RFC 9068), our audience,
an `exp` (required) no further than `jwt_duree_max_secondes` after its `iat`, its `nbf` honoured
within a small leeway, and a non-empty `sub`. The checks are pure apart from fetching an issuer's
keys (PyJWKClient: the JWKS cached `jwks_cache_secondes`, refetched on an unknown `kid` at most once
per `jwks_refetch_min_secondes`, so a flood of made-up kids cannot hammer the provider; a key the
provider no longer publishes stops being accepted once the cache has expired).

Every refusal is a `JetonInvalide` whose reason becomes the 401's detail and its
`WWW-Authenticate: Bearer error="invalid_token"` description; nothing a token holds raises
anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

from hopen_common.auth.tokens import ISSUER_DEV

# What an identity provider may sign with: asymmetric only (an HMAC would let anyone holding the
# public key forge tokens: the algorithm-confusion attack).
ALGORITHMES_IDP: frozenset[str] = frozenset({"RS256", "ES256", "PS256", "EdDSA"})
ALGORITHMES_DEV: frozenset[str] = frozenset({"HS256"})
# What each key type may verify (RFC 7518 section 3, RFC 8037): a token's `alg` must fit the key it
# names, whether or not the JWKS declares the key's `alg`. EC: the curve fixes the algorithm.
ALGORITHMES_RSA: frozenset[str] = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
ALGORITHME_DE_COURBE: Mapping[str, str] = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
COURBES_OKP: frozenset[str] = frozenset({"Ed25519", "Ed448"})
# RFC 9068 access tokens say at+jwt (or application/at+jwt); RFC 7519 tokens JWT.
TYPES_ACCEPTES: frozenset[str] = frozenset({"jwt", "at+jwt"})


@dataclass(frozen=True)
class Identite:
    """Who the identity provider says is calling (`iss`, `sub`), with the token's verified claims.
    What they may do is not here: it is the Principal, resolved from our own rights (ADR 0022)."""

    emetteur: str
    sujet: str
    claims: Mapping[str, Any]


class JetonInvalide(Exception):
    """A token refused: `raison` says why (ASCII, it goes into a response header too)."""

    def __init__(self, raison: str) -> None:
        super().__init__(raison)
        self.raison = raison


@dataclass(frozen=True)
class EmetteurDeConfiance:
    iss: str
    algorithmes: frozenset[str]
    jwks_url: str = ""  # empty for the development issuer (its key is `jwt_secret`)


@dataclass(frozen=True)
class Politique:
    """Everything verification needs, built once from the settings (`politique_des_reglages`)."""

    emetteurs: Mapping[str, EmetteurDeConfiance]
    audience: str
    secret_dev: str = ""
    duree_max_secondes: int = 12 * 3600
    marge_secondes: int = 30
    jwks_cache_secondes: float = 300.0
    jwks_refetch_min_secondes: float = 10.0


def politique_des_reglages(settings: Any) -> Politique:
    """The verification policy of a service's settings (hopen_common.settings.ServiceSettings)."""
    emetteurs: dict[str, EmetteurDeConfiance] = {}
    for iss, valeur in settings.emetteurs_de_confiance().items():
        jwks_url, algorithmes = valeur
        emetteurs[iss] = EmetteurDeConfiance(iss=iss, jwks_url=jwks_url, algorithmes=algorithmes)
    if settings.environment != "production":
        emetteurs[ISSUER_DEV] = EmetteurDeConfiance(iss=ISSUER_DEV, algorithmes=ALGORITHMES_DEV)
    return Politique(
        emetteurs=emetteurs, audience=settings.jwt_audience, secret_dev=settings.jwt_secret,
        duree_max_secondes=settings.jwt_duree_max_secondes, marge_secondes=settings.jwt_marge_secondes,
        jwks_cache_secondes=settings.jwks_cache_secondes,
        jwks_refetch_min_secondes=settings.jwks_refetch_min_secondes,
    )


@lru_cache(maxsize=32)
def client_jwks(url: str, *, cache_secondes: float, refetch_min_secondes: float) -> jwt.PyJWKClient:
    """One PyJWKClient per (issuer JWKS, policy): its cache outlives requests. The lifespan bounds how
    long a removed key is still accepted; the cooldown how often an unknown kid may cause a fetch."""
    return jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=cache_secondes,
                           cooldown_duration=refetch_min_secondes, timeout=5)


# ---------------------------------------------------------------------------- pure checks
def verifier_entete(entete: Mapping[str, Any], emetteur: EmetteurDeConfiance) -> str:
    """The header's `typ` and `alg` against the issuer's allow-list; returns the algorithm."""
    typ = entete.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") not in TYPES_ACCEPTES:
        raise JetonInvalide(f"type de jeton (typ) {typ!r} refuse : JWT ou at+jwt attendu")
    alg = entete.get("alg")
    if not isinstance(alg, str) or alg not in emetteur.algorithmes:
        raise JetonInvalide(f"algorithme {alg!r} refuse pour l'emetteur {emetteur.iss}"
                            f" (attendu : {', '.join(sorted(emetteur.algorithmes))})")
    return alg


def verifier_duree(claims: Mapping[str, Any], *, duree_max_secondes: int) -> None:
    """`exp` - `iat` no longer than the maximum: a token valid for a year is a stolen key's gift."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise JetonInvalide("exp et iat numeriques requis")
    if exp - iat > duree_max_secondes:
        raise JetonInvalide(f"duree de vie {int(exp - iat)} s superieure au maximum"
                            f" ({duree_max_secondes} s)")


def verifier_sujet(claims: Mapping[str, Any]) -> str:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise JetonInvalide("sub : chaine non vide attendue")
    return sub


def verifier_algorithme_de_cle(alg: str, jwk: Mapping[str, Any]) -> None:
    """The token's `alg` (already in the issuer's allow-list) against the JWK that verifies it: the
    key's declared `alg` if it has one, and always its type (RSA: RS*/PS*, EC: the ES* of its curve,
    OKP: EdDSA on Ed25519/Ed448); an encryption key (`use` enc) verifies nothing. Without this, a key
    published without `alg` would let the token pick any algorithm of the allow-list for it."""
    kid = str(jwk.get("kid"))[:60]
    declare = jwk.get("alg")
    if declare is not None and declare != alg:
        raise JetonInvalide(f"algorithme {alg!r} different de celui de la cle {kid!r}"
                            f" ({str(declare)[:20]!r})")
    if jwk.get("use", "sig") != "sig":
        raise JetonInvalide(f"la cle {kid!r} n'est pas une cle de signature (use)")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        permis = alg in ALGORITHMES_RSA
    elif kty == "EC":
        permis = isinstance(crv, str) and ALGORITHME_DE_COURBE.get(crv) == alg
    elif kty == "OKP":
        permis = alg == "EdDSA" and crv in COURBES_OKP
    else:
        permis = False
    if not permis:
        raise JetonInvalide(f"algorithme {alg!r} incompatible avec la cle {kid!r}"
                            f" (kty {str(kty)[:10]!r}, crv {str(crv)[:10]!r})")


_ERREURS_PYJWT: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "jeton expire (exp)"),
    (jwt.ImmatureSignatureError, "jeton pas encore valide (nbf)"),
    (jwt.InvalidAudienceError, "audience (aud) refusee"),
    (jwt.InvalidIssuerError, "emetteur (iss) refuse"),
    (jwt.InvalidSignatureError, "signature invalide"),
    (jwt.InvalidIssuedAtError, "iat invalide ou dans le futur"),
)


def _raison_pyjwt(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"claim {exc.claim} manquant"
    if isinstance(exc, jwt.ImmatureSignatureError) and "iat" in str(exc):
        return "jeton emis dans le futur (iat)"
    for classe, raison in _ERREURS_PYJWT:
        if isinstance(exc, classe):
            return raison
    return f"jeton invalide ({type(exc).__name__}: {str(exc)[:120]})"


# ---------------------------------------------------------------------------- verification
def _lire(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        entete = jwt.get_unverified_header(token)
        brut = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise JetonInvalide(f"jeton illisible ({type(exc).__name__})") from exc
    if not isinstance(entete, dict) or not isinstance(brut, dict):
        raise JetonInvalide("jeton illisible")
    return entete, brut


def _emetteur(brut: Mapping[str, Any], politique: Politique) -> EmetteurDeConfiance:
    iss = brut.get("iss")
    emetteur = politique.emetteurs.get(iss) if isinstance(iss, str) else None
    if emetteur is None:
        raise JetonInvalide(f"emetteur (iss) {str(iss)[:100]!r} non reconnu")
    return emetteur


def _cle(token: str, entete: Mapping[str, Any], alg: str, emetteur: EmetteurDeConfiance,
         politique: Politique) -> Any:
    """The key that verifies the token, checked against its `alg` (verifier_algorithme_de_cle)."""
    if not emetteur.jwks_url:
        return politique.secret_dev
    kid = entete.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JetonInvalide("kid manquant dans l'en-tete")
    client = client_jwks(emetteur.jwks_url, cache_secondes=politique.jwks_cache_secondes,
                         refetch_min_secondes=politique.jwks_refetch_min_secondes)
    try:
        jwk = client.get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as exc:
        raise JetonInvalide(f"cles de l'emetteur {emetteur.iss} injoignables") from exc
    except jwt.PyJWTError as exc:
        raise JetonInvalide(f"cle {kid[:60]!r} inconnue de l'emetteur {emetteur.iss}") from exc
    # The JWK as published: PyJWK infers an `alg` the JWKS did not declare (RS256 for any RSA key),
    # so its algorithm_name cannot tell a declared one from a guess.
    verifier_algorithme_de_cle(alg, jwk._jwk_data)
    # Our check is the authority: PyJWT verifies with the token's (checked) algorithm on the raw key.
    return jwk.key


def verifier_jeton(token: str, politique: Politique) -> Identite:
    """Who the token proves is calling, or JetonInvalide. Synchronous: an identity provider's JWKS
    may be fetched (use `authentifier` from async code)."""
    entete, brut = _lire(token)
    emetteur = _emetteur(brut, politique)
    alg = verifier_entete(entete, emetteur)
    cle = _cle(token, entete, alg, emetteur, politique)
    try:
        claims = jwt.decode(
            token, cle, algorithms=[alg], audience=politique.audience, issuer=emetteur.iss,
            leeway=politique.marge_secondes,
            options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_sub": False})
    except jwt.PyJWTError as exc:
        raise JetonInvalide(_raison_pyjwt(exc)) from exc
    verifier_duree(claims, duree_max_secondes=politique.duree_max_secondes)
    sujet = verifier_sujet(claims)
    return Identite(emetteur=emetteur.iss, sujet=sujet, claims=claims)


async def authentifier(token: str, politique: Politique) -> Identite:
    """`verifier_jeton` off the event loop when the issuer's keys may have to be fetched."""
    try:
        entete, brut = _lire(token)
        emetteur = _emetteur(brut, politique)
    except JetonInvalide:
        return verifier_jeton(token, politique)  # raises the same refusal
    if not emetteur.jwks_url:
        return verifier_jeton(token, politique)
    return await asyncio.to_thread(verifier_jeton, token, politique)

