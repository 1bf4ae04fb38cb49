"""HospiConnect and AAP through the real broker: the tests publish what instruction and candidature
will send; financement's consumer decides, notifies and writes the envelope ledger."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from hopen_common.db.messaging import DeadLetter, OutboxMessage
from hopen_financement.enveloppes.models import EcritureEnveloppe
from hopen_financement.enveloppes.service import situation_de, transferer
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.hospiconnect.models import MontantHospiconnect
from hopen_financement.notifications.models import LigneFinancement, Notification

from .. import builders as b
from .. import oracle

D = Decimal
BRETAGNE, ALLOUE_BRETAGNE = "53", D("4631000.00")
SUPPORT, MEMBRE, PRIVE = "350000006", "290000009", "560000002"


async def _connus(bus, *finess: str) -> None:
    async def tous(s):
        return all([await s.get(EtablissementConnu, f) for f in finess])
    await bus.attendre(tous, quoi="referentiel copy")


async def _montants(bus) -> list[MontantHospiconnect]:
    async with bus.sessions() as s:
        return list(await s.scalars(select(MontantHospiconnect).order_by(MontantHospiconnect.id)))


async def test_hospiconnect_par_ej_correction_et_regression(bus):
    for finess, effectifs in ((SUPPORT, 3200), (MEMBRE, 1000), (PRIVE, 250)):
        await bus.publier("etablissement", finess,
                          b.etablissement(finess, BRETAGNE, "20000", effectifs=effectifs))
    await _connus(bus, SUPPORT, MEMBRE, PRIVE)

    # GHT: the support applies for its member; attainment is judged per EJ, the support is paid.
    # Expenses first, decision after: the amount is decided when both are known.
    dep_membre = b.depenses("hc1", SUPPORT, MEMBRE, BRETAGNE, 2026, "12000.00")
    await bus.publier("candidature", "hc1", dep_membre)
    await bus.publier("candidature", "hc1", b.depenses("hc1", SUPPORT, SUPPORT, BRETAGNE, 2026, "900000.00"))
    await bus.publier("dossier", "hc1", b.annee_hc("hc1", SUPPORT, MEMBRE, BRETAGNE, 2026, ["1.0"]))
    await bus.publier("dossier", "hc1", b.annee_hc("hc1", SUPPORT, SUPPORT, BRETAGNE, 2026, ["1.0"]))
    # A private EJ whose 1.0 is not reached: nothing is paid that year.
    await bus.publier("dossier", "hc2", b.annee_hc("hc2", PRIVE, PRIVE, BRETAGNE, 2026, []))
    await bus.publier("candidature", "hc2", b.depenses("hc2", PRIVE, PRIVE, BRETAGNE, 2026, "5000.00"))

    async def trois(s):
        return len((await s.scalars(select(MontantHospiconnect))).all()) == 3
    await bus.attendre(trois, quoi="three yearly amounts")
    par_ej = {m.finess_ej: m for m in await _montants(bus)}
    attendus = {MEMBRE: oracle.montant_hospiconnect(1000, ["1.0"], "12000.00"),
                SUPPORT: oracle.montant_hospiconnect(3200, ["1.0"], "900000.00"),
                PRIVE: oracle.montant_hospiconnect(250, [], "5000.00")}
    for ej, attendu in attendus.items():
        m = par_ej[ej]
        assert (m.plafond, m.taux, m.montant_theorique, m.montant) == (
            attendu["plafond"], attendu["taux"], attendu["montant_theorique"], attendu["montant"]), ej
    assert par_ej[MEMBRE].montant == D("12000.00")  # 48 450 x 40 % = 19 380, capped by expenses
    assert par_ej[PRIVE].montant == D("0.00")  # mandatory 1.0 missing
    assert par_ej[MEMBRE].finess == SUPPORT  # paid to the support ES

    # The ES corrects its 2026 declaration for the member: a new amount supersedes the first.
    await bus.publier("candidature", "hc1", b.depenses("hc1", SUPPORT, MEMBRE, BRETAGNE, 2026, "30000.00",
                                                       remplace=dep_membre.data["declaration_id"]))

    async def corrige(s):
        return (await s.scalars(select(MontantHospiconnect).where(MontantHospiconnect.rang == 2))).first()
    second = await bus.attendre(corrige, quoi="corrected amount")
    assert second.montant == oracle.montant_hospiconnect(1000, ["1.0"], "30000.00")["montant"]
    assert second.montant == D("19380.00")
    async with bus.sessions() as s:
        nouvelle = await s.get(Notification, second.notification_id)
        assert nouvelle.remplace == par_ej[MEMBRE].notification_id
        courantes = list(await s.scalars(select(LigneFinancement).where(
            LigneFinancement.finess_ej == MEMBRE)))
    assert {li.version for li in courantes} == {1, 2}  # the first line is kept, superseded, never edited

    # 2027: the member keeps 1.0, reaches 1.1 and 1.2; 2028: loses 1.2 -> reported as a regression.
    d27 = b.annee_hc("hc1", SUPPORT, MEMBRE, BRETAGNE, 2027, ["1.0", "1.1", "1.2"])
    await bus.publier("dossier", "hc1", d27)
    await bus.publier("candidature", "hc1", b.depenses("hc1", SUPPORT, MEMBRE, BRETAGNE, 2027, "100000.00"))
    await bus.publier("dossier", "hc1", b.annee_hc("hc1", SUPPORT, MEMBRE, BRETAGNE, 2028, ["1.0", "1.1"]))
    await bus.publier("candidature", "hc1", b.depenses("hc1", SUPPORT, MEMBRE, BRETAGNE, 2028, "100000.00"))

    async def annees(s):
        return {m.annee: m for m in (await s.scalars(select(MontantHospiconnect).where(
            MontantHospiconnect.finess_ej == MEMBRE, MontantHospiconnect.annee > 2026))).all()}
    par_annee = await bus.attendre(lambda s: _deux(annees, s), quoi="2027 and 2028 amounts")
    attendu_2027 = oracle.montant_hospiconnect(1000, ["1.0", "1.1", "1.2"], "100000")
    attendu_2028 = oracle.montant_hospiconnect(1000, ["1.0", "1.1"], "100000")
    assert par_annee[2027].montant == attendu_2027["montant"]
    assert par_annee[2028].montant == attendu_2028["montant"]
    assert par_annee[2028].regressions == ["1.2"]
    assert par_annee[2027].regressions == []
    assert await bus.compter(DeadLetter) == 0

    # Redelivery pays nothing twice.
    avant = (await bus.compter(MontantHospiconnect), await bus.compter(Notification),
             await bus.compter(OutboxMessage))
    total = len(bus.publies)
    await bus.republier_tout()
    await bus.attendre(lambda _: _vrai(bus.consumer.processed >= 2 * total), quoi="redelivery consumed")
    assert (await bus.compter(MontantHospiconnect), await bus.compter(Notification),
            await bus.compter(OutboxMessage)) == avant


async def _deux(requete, s):
    resultat = await requete(s)
    return resultat if len(resultat) == 2 else None


async def _vrai(valeur: bool) -> bool:
    return valeur


async def test_aap_engagement_moities_desengagement_et_depassement(bus):
    # Two projects in Bretagne: one reaches its objectives, the other does not.
    # AC 200 000 and 2 objectives: theoretical maximum 427 951.81 € with the 2026.1 parameters.
    await bus.publier("projet", "p1", b.projet("p1", SUPPORT, BRETAGNE, "200000.01", ac="200000"))
    await bus.publier("projet", "p2", b.projet("p2", PRIVE, BRETAGNE, "150000.00",
                                               depenses_prevues="180000.00", ac="200000"))

    async def engages(s):
        return len((await s.scalars(select(EcritureEnveloppe).where(
            EcritureEnveloppe.nature == "engagement"))).all()) == 2
    await bus.attendre(engages, quoi="engagements")
    async with bus.sessions() as s:
        situation = await situation_de(s, "aap", BRETAGNE)
    assert situation.engage == D("350000.01")
    assert situation.consomme == D("100000.01") + D("75000.00")  # first halves, half up
    assert situation.alloue == ALLOUE_BRETAGNE

    await bus.publier("projet", "p1", b.atteinte("p1", SUPPORT, BRETAGNE, True))
    await bus.publier("projet", "p2", b.atteinte("p2", PRIVE, BRETAGNE, False))

    async def decides(s):
        return len((await s.scalars(select(LigneFinancement).where(
            LigneFinancement.nature == "aap_atteinte"))).all()) == 2
    await bus.attendre(decides, quoi="attainment decided")
    async with bus.sessions() as s:
        situation = await situation_de(s, "aap", BRETAGNE)
        lignes = {(li.candidature_id, li.nature): li.montant
                  for li in await s.scalars(select(LigneFinancement))}
    assert lignes == {("p1", "aap_acceptation"): D("100000.01"), ("p1", "aap_atteinte"): D("100000.00"),
                      ("p2", "aap_acceptation"): D("75000.00"), ("p2", "aap_atteinte"): D("0.00")}
    # p2's second half went back to the envelope.
    assert situation.engage == D("200000.01") + D("75000.00")
    assert situation.consomme == situation.engage

    # The DNS moves all but 100 000 € of what is left to Normandie (an audited transfer)...
    async with bus.sessions() as s:
        await transferer(s, source=("aap", BRETAGNE), destination=("aap", "28"),
                         montant=situation.disponible - D("100000.00"), motif="sous-consommation",
                         decide_par="dns")
        await s.commit()
        assert (await situation_de(s, "aap", BRETAGNE)).disponible == D("100000.00")
    # ... so a selection of 100 000.01 € is refused and parked: engaged stays within allocated.
    await bus.publier("projet", "p3", b.projet("p3", SUPPORT, BRETAGNE, "100000.01", ac="200000"))

    async def parque(s):
        return (await s.scalars(select(DeadLetter).where(DeadLetter.key == "p3"))).first()
    lettre = await bus.attendre(parque, quoi="over-envelope selection parked")
    assert "dépasserait l'alloué" in lettre.error
    async with bus.sessions() as s:
        assert (await situation_de(s, "aap", BRETAGNE)).engage == D("275000.01")

    # An amount above the theoretical maximum is refused too (AC 40 000, 2 objectives).
    await bus.publier("projet", "p4", b.projet("p4", PRIVE, BRETAGNE, "999999.00"))

    async def parque4(s):
        return (await s.scalars(select(DeadLetter).where(DeadLetter.key == "p4"))).first()
    assert "maximum théorique" in (await bus.attendre(parque4, quoi="p4 parked")).error
