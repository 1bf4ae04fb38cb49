"""Tokens of the real OIDC provider (node oidc-provider, the session's `oidc_provider`) on financement's
real app (issue 10, ADR 0019): an IdP token reaches the endpoint through the installed resolver;
every token with a wrong issuer, audience, lifetime, algorithm, type, subject, key or signature is a
401 problem+json naming what is wrong; a key rotation is followed without restarting the service."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest

from hopen_common.auth import Identite, Principal, Role
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.devstack.oidc import cle_privee_pem, cle_publique_pem
from hopen_common.settings import DEV_JWT_SECRET
from hopen_common.testing.plugin import OidcProviderInfo
from hopen_financement.main import create_app
from hopen_financement.settings import FinancementSettings

URL = "/v1/enveloppes"


async def _dns(identite: Identite) -> Principal:
    # The seam of ADR 0022: a test resolver; habilitations installs the real one (our rights tables).
    return Principal(subject=identite.sujet, role=Role.DNS, emetteur=identite.emetteur)


def _app(url: str, oidc: OidcProviderInfo, *, resolveur: bool = True, **reglages: Any) -> Any:
    app = create_app(FinancementSettings(database_url=url, workers_in_process=False,
                                         **oidc.reglages(**reglages)))
    engine = build_engine(url, pool_size=2)
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    if resolveur:
        app.state.resoudre_principal = _dns
    return app


@pytest.fixture(scope="module")
def base_url(fresh_database: Callable[[str], str]) -> str:
    return fresh_database("financement")


@pytest.fixture
async def client(base_url: str, oidc_provider: OidcProviderInfo) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(base_url, oidc_provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://f") as c:
        yield c
    await app.state.engine.dispose()


def _signe(oidc: OidcProviderInfo, *, alg: str = "RS256", typ: str | None = "at+jwt",
           kid: str | None = None, cle: Any = None, retirer: tuple[str, ...] = (), **claims: Any) -> str:
    """A token signed by the provider's own current key, with the claims a test wants wrong."""
    jwk = oidc.provider.cles()[0]
    maintenant = int(time.time())
    contenu = {"iss": oidc.issuer, "aud": "hopen", "sub": "alice", "iat": maintenant,
               "exp": maintenant + 600, **claims}
    for nom in retirer:
        contenu.pop(nom)
    entetes: dict[str, Any] = {"kid": kid or jwk["kid"], "typ": typ}  # None: PyJWT writes no typ
    return jwt.encode(contenu, cle if cle is not None else cle_privee_pem(jwk), algorithm=alg,
                      headers=entetes)


def _entete(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refuse(client: httpx.AsyncClient, token: str, *, dit: str) -> None:
    r = await client.get(URL, headers=_entete(token))
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/jeton-invalide")
    assert dit in r.json()["detail"], r.json()
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_un_jeton_du_fournisseur_atteint_l_endpoint(client, oidc_provider):
    token = oidc_provider.jeton("agent-dns-1")
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    r = await client.get(URL, headers=_entete(token))
    assert r.status_code == 200, r.text


async def test_sans_resolveur_l_identite_est_sans_habilitation(base_url, oidc_provider):
    app = _app(base_url, oidc_provider, resolveur=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://f") as c:
        r = await c.get(URL, headers=oidc_provider.entete("inconnu"))
    await app.state.engine.dispose()
    assert r.status_code == 403
    assert r.json()["type"].endswith("/sans-habilitation")


async def test_le_jeton_signe_par_le_test_est_accepte_tel_quel(client, oidc_provider):
    # The control of the refusals below: the same construction with nothing wrong passes.
    assert (await client.get(URL, headers=_entete(_signe(oidc_provider)))).status_code == 200


@pytest.mark.parametrize(("modif", "dit"), [
    ({"iss": "https://autre.example"}, "non reconnu"),
    ({"aud": "autre-api"}, "audience"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expire"),
    ({"nbf": int(time.time()) + 3600}, "nbf"),
    ({"retirer": ("exp",)}, "exp manquant"),
    ({"exp": int(time.time()) + 13 * 3600}, "duree de vie"),
    ({"sub": ""}, "sub"),
    ({"sub": ["alice"]}, "sub"),
    ({"typ": "JOSE"}, "typ"),
    ({"typ": None}, "typ"),
    ({"kid": "kid-que-personne-ne-publie"}, "inconnue"),
])
async def test_jeton_refuse(client, oidc_provider, modif, dit):
    await _refuse(client, _signe(oidc_provider, **modif), dit=dit)


async def test_alg_none_et_confusion_hs256_refuses(client, oidc_provider):
    entete = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    corps = base64.urlsafe_b64encode(
        f'{{"iss":"{oidc_provider.issuer}","aud":"hopen","sub":"x","iat":1,"exp":9999999999}}'.encode()
    ).rstrip(b"=").decode()
    await _refuse(client, f"{entete}.{corps}.", dit="algorithme")
    # HS256 keyed with the IdP's public key (anyone has it): refused by the issuer's allow-list
    # before any key is used (PyJWT would refuse a PEM as an HMAC secret anyway; hand-signed here).
    import hashlib
    import hmac

    publique = cle_publique_pem(oidc_provider.provider.cles()[0])
    tete = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(
        hmac.new(publique, f"{tete}.{corps}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    await _refuse(client, f"{tete}.{corps}.{signature}", dit="algorithme")


async def test_signature_alteree_refusee(client, oidc_provider):
    token = oidc_provider.jeton("alice")
    tete, corps, signature = token.split(".")
    autre = jwt.decode(token, options={"verify_signature": False}) | {"sub": "mallory"}
    corps = base64.urlsafe_b64encode(jwt.api_jws.json.dumps(autre).encode()).rstrip(b"=").decode()
    await _refuse(client, f"{tete}.{corps}.{signature}", dit="signature")


async def test_jeton_illisible_ou_dev_mal_forme_jamais_500(client):
    await _refuse(client, "pas-un-jeton", dit="illisible")
    maintenant = int(time.time())
    base = {"iss": "hopen-dev", "aud": "hopen", "sub": "s", "iat": maintenant, "exp": maintenant + 60}
    for claims, dit in [({"role": "ars", "region": ["11", "84"]}, "region"),
                        ({"role": "ars", "region": "99"}, "region"),
                        ({"role": "etablissement", "finess": ["010000025"]}, "finess"),
                        ({"role": "etablissement", "finess": "010000024"}, "finess"),
                        ({"role": "ars", "region": "11", "profils": ["chef"]}, "profil"),
                        ({"role": "roi"}, "role"),
                        ({"role": "ars"}, "region")]:
        await _refuse(client, jwt.encode(base | claims, DEV_JWT_SECRET, algorithm="HS256"), dit=dit)


async def test_rotation_des_cles_sans_redemarrer_le_service(base_url, oidc_provider):
    # One app follows rotations quickly (cache 2 s, refetch on an unknown kid at once), the other
    # keeps the default rate limit on unknown kids (60 s here): it must not refetch for the new kid.
    suit = _app(base_url, oidc_provider, jwks_cache_secondes=2, jwks_refetch_min_secondes=0)
    lent = _app(base_url, oidc_provider, jwks_cache_secondes=600, jwks_refetch_min_secondes=60)
    t = httpx.ASGITransport
    async with httpx.AsyncClient(transport=t(app=suit), base_url="http://f") as a, \
            httpx.AsyncClient(transport=t(app=lent), base_url="http://f") as b:
        ancien = oidc_provider.jeton("alice")
        ancien_kid = jwt.get_unverified_header(ancien)["kid"]
        assert (await a.get(URL, headers=_entete(ancien))).status_code == 200
        assert (await b.get(URL, headers=_entete(ancien))).status_code == 200

        nouvelle = oidc_provider.provider.tourner_cles()  # new key first, old kept; provider restarted
        nouveau = oidc_provider.jeton("alice")
        assert jwt.get_unverified_header(nouveau)["kid"] == nouvelle["kid"] != ancien_kid
        assert (await a.get(URL, headers=_entete(nouveau))).status_code == 200
        assert (await a.get(URL, headers=_entete(ancien))).status_code == 200  # still published
        # The rate limit: the slow app fetched its JWKS moments ago, the new kid waits.
        await _refuse(b, nouveau, dit="inconnue")

        oidc_provider.provider.retirer_cle(ancien_kid)
        await asyncio.sleep(2.2)  # the fast app's cache lifetime
        await _refuse(a, ancien, dit="inconnue")
        assert (await a.get(URL, headers=_entete(nouveau))).status_code == 200
    for app in (suit, lent):
        await app.state.engine.dispose()
