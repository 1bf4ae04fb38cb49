"""Mail templates: every mapped event's template exists and only names fields its payload has (so a
mail never says "(non précisé)" for a decision); French rendering of dates and amounts; the
Message-ID is deterministic."""

from datetime import date
from decimal import Decimal
from string import Template

import hopen_common.contracts  # noqa: F401  (registers the payloads)
from hopen_candidature.courriels.service import MODELES as MODELES_CANDIDATURE
from hopen_common.courriel import MODELES, identifiant_message, rendre
from hopen_common.courriel.modeles import _modele, en_francais
from hopen_common.events.registry import modeles_enregistres
from hopen_instruction.courriels import MODELES as MODELES_ARS


def test_chaque_modele_ne_nomme_que_des_champs_du_payload() -> None:
    classes = {t: m for (t, _), m in modeles_enregistres().items()}
    for type_, nom in [*MODELES_CANDIDATURE.items(), *MODELES_ARS.items()]:
        assert nom in MODELES
        sujet, corps = _modele(nom)
        noms = set(Template.get_identifiers(sujet)) | set(Template.get_identifiers(corps))
        assert noms <= set(classes[type_].model_fields), (nom, noms - set(classes[type_].model_fields))


def test_rendu_en_francais() -> None:
    assert en_francais(date(2026, 5, 29)) == "29 mai 2026"
    assert en_francais(Decimal("1234567.5")) == "1\u202f234\u202f567,50 €"
    assert en_francais(["P1.O1", "P1.O2"]) == "P1.O1, P1.O2"
    assert en_francais([{"type": "P1.P2", "finess_ej": None}, {"type": "P1.P1", "finess_ej": "210780581"}]
                       ) == "P1.P2, P1.P1 210780581"
    sujet, corps = rendre("projet_aap_non_retenu", {"decide_le": date(2026, 10, 2), "projet_id": "p-1",
                                                    "finess": "210012142"})
    assert sujet == "HOP'EN 2 — votre projet n'est pas retenu"
    assert "le 2 octobre 2026 le projet p-1" in corps
    assert "(non précisé)" in corps  # the motivation was not given


def test_message_id_deterministe() -> None:
    a = identifiant_message("evt-1", "A@B.fr", "hopen.test")
    assert a == identifiant_message("evt-1", "a@b.fr", "hopen.test")
    assert a != identifiant_message("evt-2", "a@b.fr", "hopen.test")
    assert a.startswith("<")
    assert a.endswith("@hopen.test>")
