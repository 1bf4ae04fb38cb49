"""Phase 1 through the real broker: amorçage on validation, solde/reprise once every (EJ, objective)
is decided, GHT forfaits on each member EJ's AC paid to the support ES; every amount equals the
independent computation of the instruction; redelivery pays nothing twice; missing AC parks."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from hopen_common.contracts import PerimetreEj
from hopen_common.db.messaging import DeadLetter, InboxMessage, OutboxMessage
from hopen_financement.notifications.models import LigneFinancement, Notification

from .. import builders as b
from .. import oracle

D = Decimal
CORSE = "94"
CALVI, GRAND = "2B0005342", "750712184"
SUPPORT, MEMBRE, MEMBRE_HORS_BASE = "2A0000006", "2A0000014", "2A0000022"
MAX = "600000"


async def _lignes(bus, nature: str) -> list[LigneFinancement]:
    async with bus.sessions() as s:
        return list(await s.scalars(select(LigneFinancement).where(LigneFinancement.nature.in_(
            [nature] if nature != "fin" else ["solde", "reprise"])).order_by(LigneFinancement.id)))


async def test_cycle_phase1_et_ght(bus):
    for ev in (b.etablissement(CALVI, CORSE, "18530"), b.etablissement(GRAND, "11", MAX),
               b.etablissement(SUPPORT, CORSE, "30000"), b.etablissement(MEMBRE, CORSE, "250000"),
               b.etablissement("130000003", "93", "900000", eligible=False)):  # not in the eligible base
        await bus.publier("etablissement", ev.data["finess"], ev)

    async def base_chargee(s):
        from hopen_financement.etablissements.models import EtablissementConnu
        return len((await s.scalars(select(EtablissementConnu))).all()) == 5
    await bus.attendre(base_chargee, quoi="referentiel copy")

    simple = ["P1.O1", "P1.O3"]
    await bus.publier("dossier", "c1", b.validee("c1", CALVI, CORSE, simple))
    perimetre = [
        # The producer's AC (1) is ignored: the referentiel's copy wins.
        PerimetreEj(finess_ej=SUPPORT, raison_sociale="CH support", activite_combinee=D("1"),
                    objectifs=["P1.O2"]),
        PerimetreEj(finess_ej=MEMBRE, raison_sociale="CH membre", activite_combinee=None,
                    objectifs=["P1.O2", "P1.O5"]),
        PerimetreEj(finess_ej=MEMBRE_HORS_BASE, raison_sociale="CH hors base", activite_combinee=D("3500"),
                    objectifs=["P1.O5"]),
    ]
    await bus.publier("dossier", "c2",
                      b.validee("c2", SUPPORT, CORSE, ["P1.O2", "P1.O5"], perimetre=perimetre))

    async def amorcages(s):
        return len((await s.scalars(select(LigneFinancement))).all()) == 6
    await bus.attendre(amorcages, quoi="amorçage lines")

    ac = {CALVI: "18530", SUPPORT: "30000", MEMBRE: "250000", MEMBRE_HORS_BASE: "3500"}
    for ligne in await _lignes(bus, "amorcage"):
        attendu = oracle.forfait_phase1(ac[ligne.finess_ej], ligne.objectif, MAX)
        assert (ligne.forfait, ligne.montant) == (attendu["forfait"], attendu["amorcage"]), ligne.calcul
        assert ligne.calcul["tranche"] == attendu["tranche"]
        assert D(ligne.calcul["activite_combinee"]) == D(ac[ligne.finess_ej])
        assert D(ligne.calcul["activite_combinee_max"]) == D(MAX)  # the non-eligible 900 000 is not the max
        assert {"borne_inferieure", "borne_suivante", "minimum", "maximum", "formule"} <= set(ligne.calcul)
        # GHT: computed on each member EJ, paid to the support ES.
        assert ligne.finess == (CALVI if ligne.candidature_id == "c1" else SUPPORT)
    hors_base = next(li for li in await _lignes(bus, "amorcage") if li.finess_ej == MEMBRE_HORS_BASE)
    assert hors_base.calcul["source_activite"] == "candidature"
    assert await bus.compter(Notification) == 4  # one per EJ: c1, and the three members of c2

    decisions = [("c1", CALVI, "P1.O1", True, None), ("c1", CALVI, "P1.O3", False, None),
                 ("c2", SUPPORT, "P1.O2", True, SUPPORT), ("c2", SUPPORT, "P1.O2", False, MEMBRE),
                 ("c2", SUPPORT, "P1.O5", True, MEMBRE), ("c2", SUPPORT, "P1.O5", False, MEMBRE_HORS_BASE)]
    atteints = {}
    for cid, finess, obj, ok, ej in decisions:
        atteints[(cid, ej or finess, obj)] = ok
        await bus.publier("dossier", cid, b.objectif(cid, finess, CORSE, obj, ok, [], finess_ej=ej))

    async def soldes(s):
        return len((await s.scalars(select(LigneFinancement).where(
            LigneFinancement.nature.in_(["solde", "reprise"])))).all()) == 6
    await bus.attendre(soldes, quoi="solde lines")

    for ligne in await _lignes(bus, "fin"):
        attendu = oracle.forfait_phase1(ac[ligne.finess_ej], ligne.objectif, MAX)
        if atteints[(ligne.candidature_id, ligne.finess_ej, ligne.objectif)]:
            assert (ligne.nature, ligne.montant) == ("solde", attendu["forfait"] - attendu["amorcage"])
        else:
            assert (ligne.nature, ligne.montant) == ("reprise", attendu["amorcage"])
    async with bus.sessions() as s:
        net_c2 = sum((n.montant_net for n in await s.scalars(select(Notification).where(
            Notification.candidature_id == "c2", Notification.nature == "solde"))), D(0))
    # Σ forfaits reached − amorçage received, over the GHT's (EJ, objective).
    recu = sum((oracle.forfait_phase1(ac[ej], o, MAX)["amorcage"] for (c, ej, o) in atteints if c == "c2"),
               D(0))
    gagne = sum((oracle.forfait_phase1(ac[ej], o, MAX)["forfait"] for (c, ej, o), ok in atteints.items()
                 if c == "c2" and ok), D(0))
    assert net_c2 == gagne - recu

    # The broker redelivers everything: nothing is paid twice, no event is published twice.
    avant = (await bus.compter(LigneFinancement), await bus.compter(Notification),
             await bus.compter(OutboxMessage), await bus.somme(LigneFinancement.montant))
    total = len(bus.publies)
    await bus.republier_tout()

    async def tout_relu(_):
        return bus.consumer.processed >= 2 * total
    await bus.attendre(tout_relu, quoi="redelivered events consumed")
    apres = (await bus.compter(LigneFinancement), await bus.compter(Notification),
             await bus.compter(OutboxMessage), await bus.somme(LigneFinancement.montant))
    assert apres == avant
    assert await bus.compter(InboxMessage) == total
    assert await bus.compter(DeadLetter) == 0


async def test_ac_inconnue_parque_puis_rejoue(bus):
    await bus.publier("etablissement", GRAND, b.etablissement(GRAND, "11", MAX))

    async def base(s):
        from hopen_financement.etablissements.models import EtablissementConnu
        return await s.get(EtablissementConnu, GRAND)
    await bus.attendre(base, quoi="eligible base")
    await bus.publier("dossier", "c9", b.validee("c9", CALVI, CORSE, ["P1.O4"]))

    async def parque(s):
        return (await s.scalars(select(DeadLetter).where(DeadLetter.key == "c9"))).first()
    lettre = await bus.attendre(parque, quoi="parked candidature")
    assert "activité combinée inconnue" in lettre.error
    assert await bus.compter(LigneFinancement) == 0  # never computed on a guess

    await bus.publier("etablissement", CALVI, b.etablissement(CALVI, CORSE, "18530"))

    async def connu(s):
        from hopen_financement.etablissements.models import EtablissementConnu
        return await s.get(EtablissementConnu, CALVI)
    await bus.attendre(connu, quoi="Calvi known")
    assert await bus.consumer.replay_parked("c9") == 1
    async with bus.sessions() as s:
        ligne = (await s.scalars(select(LigneFinancement))).one()
    assert ligne.montant == oracle.forfait_phase1("18530", "P1.O4", MAX)["amorcage"]
