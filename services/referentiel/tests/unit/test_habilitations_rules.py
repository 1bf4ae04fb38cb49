"""Who may grant which rights (pure rules of ADR 0022), as a table: manager x target -> refusal."""

from __future__ import annotations

from datetime import date

import pytest

from hopen_common.auth import Principal, Profil, Role
from hopen_common.problemes import ProblemError
from hopen_referentiel.habilitations.rules import (
    EtatHabilitation,
    peut_lire,
    referents_manquants,
    refus_de_gestion,
    verifier_etat,
)

IDP = "https://idp.exemple.gouv.fr"
DNS = Principal(subject="dns-1", role=Role.DNS, emetteur=IDP)
OPS = Principal(subject="ops-1", role=Role.OPS, emetteur=IDP)
REFERENT_94 = Principal(subject="ref-94", role=Role.ARS, region="94", referent=True, emetteur=IDP)
AGENT_94 = Principal(subject="agent-94", role=Role.ARS, region="94", emetteur=IDP)


def _ars(sujet: str = "nouvel-agent", region: str = "94", **autres: object) -> EtatHabilitation:
    return EtatHabilitation(emetteur=IDP, sujet=sujet, role=Role.ARS, region=region,
                            profils=frozenset({Profil.INSTRUCTEUR}), **autres)  # type: ignore[arg-type]


AUTRES = {
    "dns": EtatHabilitation(emetteur=IDP, sujet="dns-2", role=Role.DNS),
    "ops": EtatHabilitation(emetteur=IDP, sujet="robot", role=Role.OPS),
    "expert": EtatHabilitation(emetteur=IDP, sujet="expert", role=Role.EXPERT),
    "etablissement": EtatHabilitation(emetteur=IDP, sujet="dsi", role=Role.ETABLISSEMENT,
                                      finess=("2B0005342",)),
}


@pytest.mark.parametrize(("gestionnaire", "cible", "refus"), [
    (DNS, _ars(), None),
    (DNS, _ars(referent=True), None),
    (DNS, AUTRES["dns"], None),
    (DNS, AUTRES["expert"], None),
    (DNS, AUTRES["etablissement"], None),
    (DNS, AUTRES["ops"], "role-interdit"),
    (OPS, AUTRES["ops"], None),
    (OPS, _ars(), "role-interdit"),
    (REFERENT_94, _ars(), None),
    (REFERENT_94, _ars(region="11"), "hors-perimetre"),
    (REFERENT_94, _ars(referent=True), "role-interdit"),
    (REFERENT_94, AUTRES["etablissement"], "role-interdit"),
    (AGENT_94, _ars(), "role-interdit"),
    (DNS, EtatHabilitation(emetteur=IDP, sujet="dns-1", role=Role.DNS), "auto-habilitation"),
    (REFERENT_94, _ars(sujet="ref-94"), "auto-habilitation"),
])
def test_qui_nomme_qui(gestionnaire: Principal, cible: EtatHabilitation, refus: str | None) -> None:
    probleme = refus_de_gestion(gestionnaire, avant=None, apres=cible)
    assert (probleme.code if probleme else None) == refus


def test_le_referent_ne_touche_ni_au_referent_ni_a_une_autre_region() -> None:
    # Revoking the region's référent, or moving an agent out of the region: the "before" state counts.
    referent = _ars(sujet="ref-bis", referent=True)
    assert refus_de_gestion(REFERENT_94, avant=referent, apres=_ars(sujet="ref-bis", referent=True,
                                                                    actif=False)) is not None
    autre_region = _ars(region="11")
    probleme = refus_de_gestion(REFERENT_94, avant=autre_region, apres=_ars())
    assert probleme is not None
    assert probleme.code == "hors-perimetre"


@pytest.mark.parametrize(("etat", "champ"), [
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.ETABLISSEMENT), "finess"),
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.DNS, finess=("2B0005342",)), "finess"),
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.ARS), "region"),
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.DNS, region="94"), "region"),
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.EXPERT, profils=frozenset({Profil.VALIDEUR})),
     "profils"),
    (EtatHabilitation(emetteur=IDP, sujet="x", role=Role.DNS, referent=True), "referent"),
    (EtatHabilitation(emetteur="hopen-dev", sujet="x", role=Role.DNS), "emetteur"),
])
def test_etat_incoherent_refuse_en_nommant_le_champ(etat: EtatHabilitation, champ: str) -> None:
    with pytest.raises(ProblemError) as erreur:
        verifier_etat(etat)
    assert erreur.value.champ == champ


def test_lecture() -> None:
    assert peut_lire(DNS, AUTRES["ops"])
    assert peut_lire(OPS, AUTRES["ops"])
    assert not peut_lire(OPS, _ars())
    assert peut_lire(AGENT_94, _ars())
    assert not peut_lire(AGENT_94, _ars(region="11"))
    assert not peut_lire(AGENT_94, AUTRES["dns"])


def test_referents_manquants() -> None:
    etat = referents_manquants(["94", "53"], echeance=date(2024, 10, 4), aujourd_hui=date(2024, 10, 6))
    assert etat.jours_restants == -2
    codes = [r.code for r in etat.regions]
    assert len(codes) == 16
    assert "94" not in codes
    assert "53" not in codes
