"""Webhook rules and signer, pure: the Standard Webhooks test vector byte for byte, verification by the
independent `standardwebhooks` library (rotation included), the retry schedule, what an answer means,
the refused destinations, every catalogue type's region, the feed's cursor."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hopen_common.devstack.stack import StackConfig, find_repo_root
from hopen_common.events.registry import modeles_enregistres
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import chiffrement, rules
from hopen_instruction.webhooks.service import Reglages
from hopen_instruction.webhooks.signature import entetes, nouveau_secret, signer

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_CORPS = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
MAINTENANT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_vecteur_de_la_specification() -> None:
    assert signer(SPEC_SECRET, identifiant=SPEC_ID, horodatage=SPEC_TS, corps=SPEC_CORPS) == SPEC_SIGNATURE
    assert entetes([SPEC_SECRET], identifiant=SPEC_ID, horodatage=SPEC_TS, corps=SPEC_CORPS) == {
        "webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS), "webhook-signature": SPEC_SIGNATURE}
    # One byte of the body changed: another signature.
    assert signer(SPEC_SECRET, identifiant=SPEC_ID, horodatage=SPEC_TS, corps=b'{"test": 2432232315}') \
        != SPEC_SIGNATURE


def test_verifie_par_standardwebhooks_et_rotation() -> None:
    ancien, nouveau = nouveau_secret(), nouveau_secret()
    assert ancien.startswith("whsec_")
    assert ancien != nouveau
    corps = b'{"id": "e1", "type": "CandidatureDeposee", "data": {"montant": "12.50"}}'
    horodatage = int(datetime.now(UTC).timestamp())
    signes = entetes([nouveau, ancien], identifiant="e1", horodatage=horodatage, corps=corps)
    assert len(signes["webhook-signature"].split(" ")) == 2
    # A receiver holding either secret verifies it; a third secret does not.
    assert Webhook(ancien).verify(corps, signes)["data"]["montant"] == "12.50"
    assert Webhook(nouveau).verify(corps, signes)["id"] == "e1"
    with pytest.raises(WebhookVerificationError):
        Webhook(nouveau_secret()).verify(corps, signes)
    with pytest.raises(WebhookVerificationError):
        Webhook(ancien).verify(corps + b" ", signes)
    with pytest.raises(ValueError, match="whsec_"):
        signer("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", identifiant="e1", horodatage=horodatage, corps=corps)
    with pytest.raises(ValueError, match="aucun secret"):
        entetes([], identifiant="e1", horodatage=horodatage, corps=corps)


def test_calendrier_et_gigue() -> None:
    alea = random.Random(7)
    calendrier = rules.CALENDRIER_SPEC
    assert calendrier == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    delais = []
    for n in range(1, 8):
        quand = rules.prochaine_tentative(n, calendrier=calendrier, gigue=0.1, maintenant=MAINTENANT,
                                          alea=alea)
        assert quand is not None
        delais.append((quand - MAINTENANT).total_seconds())
    for delai, prevu in zip(delais, calendrier[1:], strict=True):
        assert prevu * 0.9 <= delai <= prevu * 1.1
    assert delais != list(calendrier[1:])  # jittered
    # After the 8th failure, nothing more: the delivery fails.
    assert rules.prochaine_tentative(8, calendrier=calendrier, gigue=0.1, maintenant=MAINTENANT) is None
    # Retry-After is honoured (never earlier), capped at the longest step.
    quand = rules.prochaine_tentative(1, calendrier=calendrier, gigue=0, maintenant=MAINTENANT, attendre=120)
    assert quand == MAINTENANT + timedelta(seconds=120)
    quand = rules.prochaine_tentative(1, calendrier=calendrier, gigue=0, maintenant=MAINTENANT, attendre=1e9)
    assert quand == MAINTENANT + timedelta(seconds=36000)


def test_juger() -> None:
    assert rules.juger(200, maintenant=MAINTENANT).issue is rules.Issue.LIVREE
    assert rules.juger(204, maintenant=MAINTENANT).issue is rules.Issue.LIVREE
    for statut in (301, 302, 307, 400, 500, None):
        assert rules.juger(statut, maintenant=MAINTENANT) == rules.Verdict(rules.Issue.REESSAYER)
    assert rules.juger(410, maintenant=MAINTENANT).issue is rules.Issue.DESACTIVER
    assert rules.juger(429, "30", maintenant=MAINTENANT) == rules.Verdict(rules.Issue.REESSAYER, 30.0)
    date_http = "Thu, 03 Dec 2026 09:10:00 GMT"
    assert rules.juger(503, date_http, maintenant=MAINTENANT) == rules.Verdict(rules.Issue.REESSAYER, 600.0)
    assert rules.juger(503, "n'importe quoi", maintenant=MAINTENANT).attendre_secondes is None
    assert rules.juger(500, "30", maintenant=MAINTENANT).attendre_secondes is None  # only 429/503


@pytest.mark.parametrize(("adresse", "refusee"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("169.254.1.1", True), ("100.64.0.1", True), ("0.0.0.0", True),
    ("::1", True), ("fe80::1", True), ("fd00::1", True), ("fd00:ec2::254", True), ("::ffff:127.0.0.1", True),
    ("::ffff:10.0.0.1", True), ("224.0.0.1", True), ("93.184.215.14", False), ("2606:4700::1111", False),
])
def test_adresses_refusees(adresse: str, refusee: bool) -> None:
    assert (rules.adresse_refusee(adresse) is not None) is refusee


def test_liste_blanche_et_urls() -> None:
    assert rules.adresse_refusee("127.0.0.1", permises=["127.0.0.1/32"]) is None
    assert rules.adresse_refusee("127.0.0.2", permises=["127.0.0.1/32"]) is not None
    assert rules.verifier_url("https://si.ars.fr/hook", https_seulement=True) == "si.ars.fr"
    assert rules.verifier_url("http://127.0.0.1:8080/x", https_seulement=False,
                              permises=["127.0.0.1/32"]) == "127.0.0.1"
    for url, https in [("http://si.ars.fr/hook", True), ("ftp://si.ars.fr/", False), ("https:///x", False),
                       ("https://u:p@si.ars.fr/", False), ("http://127.0.0.1/", False),
                       ("http://[::1]/", False), ("http://169.254.169.254/latest", False),
                       ("http://si.ars.fr:99999/", False)]:
        with pytest.raises(rules.DestinationRefusee):
            rules.verifier_url(url, https_seulement=https)


def test_chaque_type_du_catalogue_a_sa_lecture_de_region() -> None:
    """A new event type without `region` (nor the transfer's two) is national: this list says so on
    purpose, so that adding one is a decision, not an accident (ADR 0026)."""
    nationaux = set()
    for (type_, _), modele in modeles_enregistres().items():
        champs = set(modele.model_fields)
        if "region" not in champs and not set(rules.CHAMPS_REGION_SECONDAIRES) <= champs:
            nationaux.add(type_)
    assert nationaux == {"ProgrammePublie"}
    assert {"CandidatureDeposee", "CandidatureValidee", "FinancementNotifie"} <= rules.catalogue()
    assert rules.TYPE_TEST not in rules.catalogue()
    assert rules.regions_de({"region": "84", "contrepartie_region": "27"}) == ["84"]
    assert rules.regions_de({"source_region": "84", "destination_region": "27"}) == ["27", "84"]
    assert rules.regions_de({"document": "phase1"}) == []
    assert rules.types_inconnus(["CandidatureDeposee", "Inexistant", "WebhookTest"]) == ["Inexistant",
                                                                                        "WebhookTest"]


def test_concerne() -> None:
    assert rules.concerne(types=["A"], region="84", type_evenement="A", regions_evenement=["84"])
    assert not rules.concerne(types=["A"], region="84", type_evenement="A", regions_evenement=["27"])
    assert not rules.concerne(types=["A"], region="84", type_evenement="A", regions_evenement=[])
    assert rules.concerne(types=["A"], region=None, type_evenement="A", regions_evenement=[])
    assert not rules.concerne(types=["B"], region=None, type_evenement="A", regions_evenement=["84"])


def test_curseur_opaque() -> None:
    assert rules.position(rules.curseur(0)) == 0
    assert rules.position(rules.curseur(123456789)) == 123456789
    for mauvais in ("", "abc", rules.curseur(5)[:-1] + "!", "djI6MTI"):
        with pytest.raises(rules.CurseurInvalide):
            rules.position(mauvais)


def test_secret_chiffre_lie_a_son_abonnement() -> None:
    cle = chiffrement.cle_de_dev("instruction")
    secret = nouveau_secret()
    chiffre = chiffrement.chiffrer(cle, secret, abonnement_id="a1")
    assert secret.encode() not in chiffre
    assert chiffrement.dechiffrer(cle, chiffre, abonnement_id="a1") == secret
    with pytest.raises(InvalidTag):
        chiffrement.dechiffrer(cle, chiffre, abonnement_id="a2")
    with pytest.raises(ValueError, match="32 octets"):
        chiffrement.cle_configuree("YWJj", "instruction")



def test_reglages_pile_de_dev_et_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hopen up` allows a receiver on 127.0.0.1 and nothing else; production refuses to start without
    its own key for the stored secrets, and its URLs are https only."""
    env = StackConfig(root=find_repo_root(), data_dir=tmp_path).service_env("instruction")
    cle = "INSTRUCTION_WEBHOOKS_DESTINATIONS_PERMISES"
    monkeypatch.setenv(cle, env[cle])
    assert InstructionSettings(environment="development").webhooks_destinations_permises == ["127.0.0.1/32"]
    assert "CANDIDATURE_WEBHOOKS_DESTINATIONS_PERMISES" not in StackConfig(
        root=find_repo_root(), data_dir=tmp_path).service_env("candidature")
    production: dict[str, Any] = {
        "environment": "production", "jwt_emetteurs": {"https://idp.example": "https://idp.example/jwks"},
        "stockage_url": "file:///tmp/x", "audit_cle_privee": base64.b64encode(b"k" * 32).decode()}
    with pytest.raises(ValidationError, match="webhooks_cle_secrets"):
        InstructionSettings(**production)
    reglages = InstructionSettings(**production, webhooks_cle_secrets=base64.b64encode(b"s" * 32).decode())
    assert Reglages.de(reglages).https_seulement
    assert not Reglages.de(InstructionSettings(environment="test")).https_seulement


def test_la_documentation_liste_tout_le_catalogue() -> None:
    """docs/webhooks.md is what an integrator follows: every subscribable type is in its table."""
    page = (find_repo_root() / "docs" / "webhooks.md").read_text(encoding="utf-8")
    catalogue = page[page.index("## 5. Event catalogue"):]
    listes = {ligne.split("`")[1] for ligne in catalogue.splitlines() if ligne.startswith("| `")}
    assert listes == set(rules.catalogue())
    assert SPEC_SIGNATURE in page
