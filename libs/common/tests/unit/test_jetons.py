"""The pure checks of token verification (ADR 0019): header, lifetime, subject, the dev token's
rights claims, the settings' issuer allow-list. The real provider's tokens: financement's
tests/api/test_jetons_oidc.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hopen_candidature.settings import CandidatureSettings
from hopen_common.auth.jetons import (
    ALGORITHMES_DEV,
    ALGORITHMES_IDP,
    EmetteurDeConfiance,
    Identite,
    JetonInvalide,
    Politique,
    politique_des_reglages,
    verifier_algorithme_de_cle,
    verifier_duree,
    verifier_entete,
    verifier_jeton,
    verifier_sujet,
)
from hopen_common.auth.principal import Profil, Role, principal_des_claims
from hopen_common.auth.tokens import ISSUER_DEV, mint_dev_token
from hopen_common.settings import DEV_JWT_SECRET, ServiceSettings

IDP = EmetteurDeConfiance(iss="https://idp.example", algorithmes=ALGORITHMES_IDP, jwks_url="https://x/jwks")
DEV = EmetteurDeConfiance(iss=ISSUER_DEV, algorithmes=ALGORITHMES_DEV)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "application/at+jwt"])
def test_types_acceptes(typ):
    assert verifier_entete({"alg": "RS256", "typ": typ}, IDP) == "RS256"


@pytest.mark.parametrize("entete", [{"alg": "RS256"}, {"alg": "RS256", "typ": "JOSE"},
                                    {"alg": "RS256", "typ": 3}, {"alg": "none", "typ": "JWT"},
                                    {"alg": "HS256", "typ": "JWT"}, {"typ": "JWT"}])
def test_entete_refuse_pour_un_idp(entete):
    with pytest.raises(JetonInvalide):
        verifier_entete(entete, IDP)


def test_le_dev_signe_en_hs256_seulement():
    assert verifier_entete({"alg": "HS256", "typ": "JWT"}, DEV) == "HS256"
    with pytest.raises(JetonInvalide, match="algorithme"):
        verifier_entete({"alg": "RS256", "typ": "JWT"}, DEV)


def test_duree_de_vie():
    verifier_duree({"iat": 0, "exp": 12 * 3600}, duree_max_secondes=12 * 3600)
    with pytest.raises(JetonInvalide, match="duree"):
        verifier_duree({"iat": 0, "exp": 12 * 3600 + 1}, duree_max_secondes=12 * 3600)
    with pytest.raises(JetonInvalide):
        verifier_duree({"exp": 10}, duree_max_secondes=60)


@pytest.mark.parametrize("sub", ["", "   ", None, 3, ["a"]])
def test_sujet_refuse(sub):
    with pytest.raises(JetonInvalide, match="sub"):
        verifier_sujet({"sub": sub})


def _politique(**autres) -> Politique:
    return Politique(emetteurs={ISSUER_DEV: DEV}, audience="hopen", secret_dev=DEV_JWT_SECRET, **autres)


def test_jeton_de_dev_verifie():
    token = mint_dev_token(role="ars", finess=[], region="11", subject="alice", secret=DEV_JWT_SECRET,
                           profils=["valideur"])
    identite = verifier_jeton(token, _politique())
    principal = principal_des_claims(identite)
    assert (principal.subject, principal.role, principal.region) == ("alice", Role.ARS, "11")
    assert principal.profils == frozenset({Profil.VALIDEUR})


def test_jeton_de_dev_autre_secret_ou_sans_exp():
    maintenant = int(time.time())
    base = {"iss": ISSUER_DEV, "aud": "hopen", "sub": "s", "iat": maintenant, "exp": maintenant + 60,
            "role": "dns"}
    with pytest.raises(JetonInvalide, match="signature"):
        verifier_jeton(jwt.encode(base, "un-autre-secret-de-32-octets-au-moins!!", algorithm="HS256"),
                       _politique())
    sans_exp = {k: v for k, v in base.items() if k != "exp"}
    with pytest.raises(JetonInvalide, match="exp manquant"):
        verifier_jeton(jwt.encode(sans_exp, DEV_JWT_SECRET, algorithm="HS256"), _politique())
    # nbf within the leeway passes, beyond it not.
    verifier_jeton(jwt.encode(base | {"nbf": maintenant + 10}, DEV_JWT_SECRET, algorithm="HS256"),
                   _politique(marge_secondes=30))
    with pytest.raises(JetonInvalide, match="nbf"):
        verifier_jeton(jwt.encode(base | {"nbf": maintenant + 120}, DEV_JWT_SECRET, algorithm="HS256"),
                       _politique(marge_secondes=30))


@pytest.mark.parametrize(("claims", "dit"), [
    ({"role": "ars", "region": ["11"]}, "region"), ({"role": "ars", "region": "00"}, "region"),
    ({"role": "etablissement", "finess": ["010000025"]}, "finess"),
    ({"role": "etablissement", "finess": [10000024]}, "finess"),
    ({"role": "etablissement"}, "FINESS"),
    ({"role": "ars", "region": "11", "profils": "valideur"}, "profils"),
    ({"role": "ars", "region": "11", "profils": ["chef"]}, "profil"), ({"role": None}, "role"),
    ({"role": ["dns"]}, "role"),
])
def test_droits_du_jeton_de_dev_types(claims, dit):
    with pytest.raises(JetonInvalide, match=dit):
        principal_des_claims(Identite(emetteur=ISSUER_DEV, sujet="s", claims=claims))


def test_reglages_emetteurs():
    reglages = ServiceSettings(environment="test", jwt_emetteurs={
        "https://a": "https://a/jwks", "https://b": {"jwks_url": "https://b/jwks", "algorithmes": ["ES256"]}})
    politique = politique_des_reglages(reglages)
    assert politique.emetteurs["https://b"].algorithmes == frozenset({"ES256"})
    assert politique.emetteurs["https://a"].jwks_url == "https://a/jwks"
    assert ISSUER_DEV in politique.emetteurs  # outside production only
    with pytest.raises(ValidationError, match="algorithmes"):
        ServiceSettings(environment="test",
                        jwt_emetteurs={"https://b": {"jwks_url": "https://b/jwks", "algorithmes": ["HS256"]}})
    with pytest.raises(ValidationError, match="development issuer"):
        ServiceSettings(environment="test", jwt_emetteurs={ISSUER_DEV: "https://x/jwks"})


def test_production_refuse_l_emetteur_de_dev(monkeypatch):
    with pytest.raises(ValidationError, match="jwt_emetteurs"):
        ServiceSettings(environment="production", stockage_url="file:///tmp/x")
    # Production also needs its own audit signing key (ADR 0024): 32 bytes, base64.
    prod = ServiceSettings(environment="production", stockage_url="file:///tmp/x",
                           jwt_emetteurs={"https://a": "https://a/jwks"},
                           audit_cle_privee=base64.b64encode(bytes(range(32))).decode())
    assert ISSUER_DEV not in politique_des_reglages(prod).emetteurs
    token = mint_dev_token(role="dns", finess=[], region=None, subject="d", secret=DEV_JWT_SECRET)
    with pytest.raises(JetonInvalide, match="non reconnu"):
        verifier_jeton(token, politique_des_reglages(prod))


def test_sans_variable_d_environnement_pas_de_jetons_de_dev(monkeypatch):
    """A deploy that forgets <NAME>_ENVIRONMENT is production (hostile review finding 4): it refuses to
    start without its identity providers, and once they are given it does not trust hopen-dev."""
    for nom in [n for n in os.environ if n == "ENVIRONMENT" or n.endswith("_ENVIRONMENT")]:
        monkeypatch.delenv(nom)
    assert ServiceSettings.model_fields["environment"].default == "production"
    with pytest.raises(ValidationError, match="jwt_emetteurs"):
        ServiceSettings()
    with pytest.raises(ValidationError, match="jwt_emetteurs"):
        CandidatureSettings()
    reglages = CandidatureSettings(stockage_url="file:///tmp/x", jwt_emetteurs={"https://a": "https://a/jwks"},
                                   audit_cle_privee=base64.b64encode(bytes(range(32))).decode())
    assert reglages.environment == "production"
    assert ISSUER_DEV not in politique_des_reglages(reglages).emetteurs
    token = mint_dev_token(role="dns", finess=[], region=None, subject="d", secret=DEV_JWT_SECRET)
    with pytest.raises(JetonInvalide, match="non reconnu"):
        verifier_jeton(token, politique_des_reglages(reglages))
    # The test plugin's "test" (and `hopen up`'s "development") still trust the development issuer.
    monkeypatch.setenv("CANDIDATURE_ENVIRONMENT", "test")
    assert ISSUER_DEV in politique_des_reglages(CandidatureSettings()).emetteurs


_feuilles = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
_json = st.recursive(_feuilles, lambda enfants: st.lists(enfants, max_size=3)
                     | st.dictionaries(st.text(max_size=6), enfants, max_size=3), max_leaves=8)
def _b64(donnees: bytes) -> str:
    return base64.urlsafe_b64encode(donnees).rstrip(b"=").decode()


def _hs256_brut(entete: dict, contenu: dict) -> str:
    """Signed by hand: PyJWT's encode refuses some headers a forger would send anyway."""
    signe = f"{_b64(json.dumps(entete).encode())}.{_b64(json.dumps(contenu).encode())}"
    return f"{signe}.{_b64(hmac.new(DEV_JWT_SECRET.encode(), signe.encode(), hashlib.sha256).digest())}"


_NOMS = ["iss", "aud", "sub", "iat", "exp", "nbf", "role", "region", "finess", "profils"]


@settings(max_examples=300, deadline=None)
@given(claims=st.dictionaries(st.sampled_from(_NOMS), _json, max_size=10),
       entete=st.dictionaries(st.sampled_from(["typ", "kid", "crit", "cty"]), _json, max_size=3))
def test_aucun_jeton_ne_leve_autre_chose_que_jeton_invalide(claims, entete):
    # Signed with the dev key so that every claim check is reached, whatever the claims hold.
    maintenant = int(time.time())
    contenu = {"iss": ISSUER_DEV, "aud": "hopen", "sub": "s", "iat": maintenant, "exp": maintenant + 60,
               "role": "dns"} | claims
    token = _hs256_brut({"alg": "HS256", "typ": "JWT"} | entete, contenu)
    try:
        principal_des_claims(verifier_jeton(token, _politique()))
    except JetonInvalide:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_aucune_chaine_ne_leve_autre_chose_que_jeton_invalide(brut):
    token = brut.decode("latin-1") if isinstance(brut, bytes) else brut
    for candidat in (token, f"{token}.{token}.{token}", "eyJhbGciOiJIUzI1NiJ9." + token + ".x"):
        with pytest.raises(JetonInvalide):
            verifier_jeton(candidat, _politique())


# ---------------------------------------------------------------------------- the key fits the alg
@pytest.mark.parametrize(("alg", "jwk"), [
    ("RS256", {"kty": "RSA"}), ("PS256", {"kty": "RSA"}), ("RS512", {"kty": "RSA", "use": "sig"}),
    ("PS256", {"kty": "RSA", "alg": "PS256"}), ("ES256", {"kty": "EC", "crv": "P-256"}),
    ("ES384", {"kty": "EC", "crv": "P-384"}), ("EdDSA", {"kty": "OKP", "crv": "Ed25519"}),
])
def test_algorithme_compatible_avec_la_cle(alg, jwk):
    verifier_algorithme_de_cle(alg, jwk)


@pytest.mark.parametrize(("alg", "jwk", "dit"), [
    ("ES256", {"kty": "RSA"}, "incompatible"), ("EdDSA", {"kty": "RSA"}, "incompatible"),
    ("HS256", {"kty": "RSA"}, "incompatible"), ("HS256", {"kty": "oct", "k": "c2VjcmV0"}, "incompatible"),
    ("RS256", {"kty": "EC", "crv": "P-256"}, "incompatible"), ("ES256", {"kty": "EC", "crv": "P-384"},
                                                              "incompatible"),
    ("ES256", {"kty": "EC"}, "incompatible"), ("EdDSA", {"kty": "OKP", "crv": "X25519"}, "incompatible"),
    ("ES256", {"kty": "OKP", "crv": "Ed25519"}, "incompatible"),
    ("PS256", {"kty": "RSA", "alg": "RS256"}, "different"),
    ("RS256", {"kty": "RSA", "use": "enc"}, "signature"),
])
def test_algorithme_incompatible_avec_la_cle(alg, jwk, dit):
    with pytest.raises(JetonInvalide, match=dit):
        verifier_algorithme_de_cle(alg, jwk)


@pytest.fixture
def jwks_servi():
    """A real HTTP JWKS (PyJWKClient fetches it with urllib): `publier(cles)` sets what it serves."""
    servi: dict[str, bytes] = {"corps": b'{"keys": []}'}

    class Gestionnaire(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(servi["corps"])

        def log_message(self, *_: object) -> None:
            pass

    serveur = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gestionnaire)
    fil = threading.Thread(target=serveur.serve_forever, daemon=True)
    fil.start()

    def publier(*cles: dict) -> str:
        servi["corps"] = json.dumps({"keys": list(cles)}).encode()
        # One URL per test: client_jwks caches a client (and its key set) per URL.
        return f"http://127.0.0.1:{serveur.server_address[1]}/{uuid.uuid4()}/jwks"

    yield publier
    serveur.shutdown()
    serveur.server_close()


def _jeton_idp(cle_privee, alg: str, kid: str, iss: str = "https://idp.example") -> str:
    maintenant = int(time.time())
    return jwt.encode({"iss": iss, "aud": "hopen", "sub": "agent-1", "iat": maintenant,
                       "exp": maintenant + 300}, cle_privee, algorithm=alg,
                      headers={"kid": kid, "typ": "at+jwt"})


def _es384_sur_p256(cle_privee, kid: str) -> str:
    maintenant = int(time.time())
    entete = {"alg": "ES384", "typ": "at+jwt", "kid": kid}
    contenu = {"iss": "https://idp.example", "aud": "hopen", "sub": "agent-1", "iat": maintenant,
               "exp": maintenant + 300}
    signe = f"{_b64(json.dumps(entete).encode())}.{_b64(json.dumps(contenu).encode())}"
    r, s = decode_dss_signature(cle_privee.sign(signe.encode(), ec.ECDSA(hashes.SHA384())))
    return f"{signe}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _jwk_public(cle_privee, kid: str, **autres) -> dict:
    return json.loads(jwt.algorithms.get_default_algorithms()[
        "RS256" if isinstance(cle_privee, rsa.RSAPrivateKey) else "ES256"].to_jwk(cle_privee.public_key())
    ) | {"kid": kid} | autres


def test_cle_sans_alg_ne_laisse_pas_le_jeton_choisir(jwks_servi):
    """A JWKS key published without `alg`: the token's algorithm must still fit the key's type. An RSA
    key verifies RS256 and PS256 (both in the allow-list: it used to refuse PS256 because PyJWT guessed
    RS256 for it); an EC P-256 key never verifies ES384 even when the issuer allows ES384."""
    cle_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cle_ec = ec.generate_private_key(ec.SECP256R1())
    url = jwks_servi(_jwk_public(cle_rsa, "rsa"), _jwk_public(cle_ec, "ec"),
                     _jwk_public(cle_rsa, "rsa-rs256", alg="RS256"))
    idp = EmetteurDeConfiance(iss="https://idp.example", jwks_url=url,
                              algorithmes=ALGORITHMES_IDP | {"ES384"})
    politique = Politique(emetteurs={idp.iss: idp}, audience="hopen")
    for alg in ("RS256", "PS256"):
        assert verifier_jeton(_jeton_idp(cle_rsa, alg, "rsa"), politique).sujet == "agent-1"
    assert verifier_jeton(_jeton_idp(cle_ec, "ES256", "ec"), politique).sujet == "agent-1"
    # An ES384 signature made with the P-256 key itself (by hand: PyJWT would not sign it): the key's
    # curve says ES256 only.
    with pytest.raises(JetonInvalide, match="incompatible"):
        verifier_jeton(_es384_sur_p256(cle_ec, "ec"), politique)
    # The key declares RS256: a PS256 token naming it is refused, though PS256 is allowed.
    with pytest.raises(JetonInvalide, match="different"):
        verifier_jeton(_jeton_idp(cle_rsa, "PS256", "rsa-rs256"), politique)
