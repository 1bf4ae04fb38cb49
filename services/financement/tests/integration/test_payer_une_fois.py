"""Issue 7, financement's last guard: whatever arrives, at most one amorçage and one solde (or
reprise) per (EJ, objective), one HospiConnect amount per (EJ, year), one AAP tranche per (project,
tranche). A second payment is parked at once as `paiement-en-double`, with a reason naming what was
paid, and counted; a correction is the next version of the same key, never a second current line."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import DeadLetter
from hopen_common.events import decoder_payload, nouvel_evenement
from hopen_common.inbox import EvenementRefuse
from hopen_financement.consumers import HANDLERS
from hopen_financement.enveloppes.models import EcritureEnveloppe
from hopen_financement.notifications.models import LigneFinancement
from hopen_financement.notifications.repository import lignes_non_remplacees

from .. import builders as b
from .. import oracle

D = Decimal
CORSE = "94"
SARTENE, CALVI = "2A0002606", "2B0005342"
MAX = "600000"


async def _lignes_courantes(sessions) -> list[LigneFinancement]:
    async with sessions() as s:
        return list(await s.scalars(select(LigneFinancement).where(lignes_non_remplacees())
                                    .order_by(LigneFinancement.cle_metier)))


async def test_deux_candidatures_de_la_meme_ej_un_seul_paiement(bus):
    """The review's case: CH Sartène files two phase-1 candidatures, both validated."""
    await bus.publier("etablissement", SARTENE, b.etablissement(SARTENE, CORSE, "18530"))
    await bus.publier("etablissement", "750712184", b.etablissement("750712184", "11", MAX))

    async def base(s):
        from hopen_financement.etablissements.models import EtablissementConnu
        return len((await s.scalars(select(EtablissementConnu))).all()) == 2
    await bus.attendre(base, quoi="referentiel copy")

    objectifs = ["P1.O1", "P1.O3"]
    await bus.publier("dossier", "c1", b.validee("c1", SARTENE, CORSE, objectifs))
    await bus.publier("dossier", "c2", b.validee("c2", SARTENE, CORSE, objectifs))
    for cid in ("c1", "c2"):
        await bus.publier("dossier", cid, b.objectif(cid, SARTENE, CORSE, "P1.O1", True, objectifs))
        await bus.publier("dossier", cid, b.objectif(cid, SARTENE, CORSE, "P1.O3", False, objectifs))

    async def tout_vu(s):
        lettres = (await s.scalars(select(DeadLetter).where(DeadLetter.key == "c2"))).all()
        soldes = (await s.scalars(select(LigneFinancement).where(
            LigneFinancement.nature.in_(["solde", "reprise"])))).all()
        return len(lettres) == 3 and len(soldes) == 2 and lettres
    lettres = await bus.attendre(tout_vu, quoi="c1 paid, c2 parked")
    refus = lettres[0]
    assert refus.motif == "paiement-en-double"
    assert refus.event_type == "CandidatureValidee"
    assert refus.attempts == 1  # a verdict: parked at once, not retried
    assert f"phase1/{SARTENE}/P1.O1/amorcage est déjà payé" in refus.error
    assert {lettre.motif for lettre in lettres[1:]} == {"derriere-evenement-gare"}

    lignes = await _lignes_courantes(bus.sessions)
    assert [(li.cle_metier, li.candidature_id, li.nature, li.version) for li in lignes] == [
        (f"phase1/{SARTENE}/P1.O1/amorcage", "c1", "amorcage", 1),
        (f"phase1/{SARTENE}/P1.O1/solde", "c1", "solde", 1),
        (f"phase1/{SARTENE}/P1.O3/amorcage", "c1", "amorcage", 1),
        (f"phase1/{SARTENE}/P1.O3/solde", "c1", "reprise", 1),
    ]
    attendu = oracle.forfait_phase1("18530", "P1.O1", MAX)
    assert sum((li.montant for li in lignes if li.objectif == "P1.O1"), D(0)) == attendu["forfait"]

    # An operator's replay of c2 is refused again: the verdict does not depend on timing.
    with pytest.raises(EvenementRefuse):
        await bus.consumer.replay_parked("c2")
    assert await bus.compter(LigneFinancement) == 4
    async with bus.sessions() as s:
        compte = await s.scalar(select(func.count()).select_from(DeadLetter).where(
            DeadLetter.motif == "paiement-en-double"))
    assert compte == 1


@pytest.fixture(scope="module")
async def sessions(fresh_database):
    engine = build_engine(fresh_database("financement"), pool_size=5)
    yield build_sessionmaker(engine)
    await engine.dispose()


async def _appliquer(sessions, ev) -> None:
    async with sessions() as s:
        await HANDLERS[ev.type](s, ev, decoder_payload(ev))
        await s.commit()


@pytest.fixture(scope="module", autouse=True)
async def base(sessions):
    for finess, ac in ((SARTENE, "18530"), (CALVI, "7000"), ("750712184", MAX)):
        await _appliquer(sessions, b.etablissement(finess, CORSE, ac, effectifs=500))


async def test_validations_concurrentes_de_la_meme_ej(sessions):
    """Two consumers (a cluster) apply two candidatures of one EJ at the same instant: the key's
    unique index lets one through; the other fails, and its retry is refused as a double payment."""
    evenements = [b.validee(f"k{i}", CALVI, CORSE, ["P1.O5"]) for i in range(4)]
    resultats = await asyncio.gather(*(_appliquer(sessions, ev) for ev in evenements), return_exceptions=True)
    reussis = [r for r in resultats if r is None]
    assert len(reussis) == 1, resultats
    assert all(isinstance(r, IntegrityError | EvenementRefuse) for r in resultats if r is not None)
    for ev, r in zip(evenements, resultats, strict=True):
        if r is not None:  # the consumer's retry: now a verdict
            with pytest.raises(EvenementRefuse) as exc:
                await _appliquer(sessions, ev)
            assert exc.value.motif == "paiement-en-double"
    async with sessions() as s:
        cles = (await s.scalars(select(LigneFinancement.cle_metier).where(
            LigneFinancement.finess_ej == CALVI, LigneFinancement.objectif == "P1.O5"))).all()
    assert cles == [f"phase1/{CALVI}/P1.O5/amorcage"]


async def test_correction_d_un_objectif_nouvelle_version_de_la_meme_cle(sessions):
    objectifs = ["P1.O2", "P1.O4"]
    await _appliquer(sessions, b.validee("r1", SARTENE, CORSE, objectifs))
    o2 = b.objectif("r1", SARTENE, CORSE, "P1.O2", False, objectifs)
    await _appliquer(sessions, o2)
    await _appliquer(sessions, b.objectif("r1", SARTENE, CORSE, "P1.O4", True, objectifs))
    forfait = oracle.forfait_phase1("18530", "P1.O2", MAX)
    cle = f"phase1/{SARTENE}/P1.O2/solde"

    async def versions() -> list[tuple[int, str, Decimal]]:
        async with sessions() as s:
            return [(li.version, li.nature, li.montant) for li in await s.scalars(
                select(LigneFinancement).where(LigneFinancement.cle_metier == cle)
                .order_by(LigneFinancement.version))]
    assert await versions() == [(1, "reprise", forfait["amorcage"])]

    # A second decision that names none would pay a second solde: refused.
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.objectif("r1", SARTENE, CORSE, "P1.O2", True, objectifs))
    assert exc.value.motif == "paiement-en-double"

    # The ARS corrects its decision: version 2 of the same key, the reprise becomes a solde.
    correction = b.objectif("r1", SARTENE, CORSE, "P1.O2", True, objectifs,
                            remplace=o2.data["decision_id"])
    await _appliquer(sessions, correction)
    assert await versions() == [(1, "reprise", forfait["amorcage"]),
                                (2, "solde", forfait["forfait"] - forfait["amorcage"])]
    courantes = [li for li in await _lignes_courantes(sessions) if li.cle_metier == cle]
    assert [li.version for li in courantes] == [2]  # one current line per key
    assert courantes[0].calcul["corrige"]["version"] == 1

    # A correction of the decision already replaced is stale: refused, nothing written.
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.objectif("r1", SARTENE, CORSE, "P1.O2", False, objectifs,
                                              remplace=o2.data["decision_id"]))
    assert exc.value.motif == "correction-perimee"
    assert len(await versions()) == 2

    # Redelivered under a new event id, the correction is refused as already received.
    with pytest.raises(EvenementRefuse):
        await _appliquer(sessions, correction)
    assert len(await versions()) == 2


async def test_hospiconnect_une_ej_une_annee_un_montant(sessions):
    # The EJ applied alone (h1), then appears in a GHT support's candidature (h2): same (EJ, year).
    await _appliquer(sessions, b.depenses("h1", SARTENE, SARTENE, CORSE, 2026, "90000.00"))
    await _appliquer(sessions, b.annee_hc("h1", SARTENE, SARTENE, CORSE, 2026, ["1.0"]))
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.annee_hc("h2", "2A0000006", SARTENE, CORSE, 2026, ["1.0"]))
    assert exc.value.motif == "paiement-en-double"
    assert "candidature h1" in str(exc.value)
    async with sessions() as s:
        lignes = (await s.scalars(select(LigneFinancement).where(
            LigneFinancement.cle_metier == f"hospiconnect/{SARTENE}/2026"))).all()
    assert [li.version for li in lignes] == [1]


async def test_aap_un_projet_une_tranche(sessions):
    selection = b.projet("p1", CALVI, CORSE, "100000.00")
    await _appliquer(sessions, selection)
    with pytest.raises(EvenementRefuse):  # the same selection, re-sent by a faulty producer
        await _appliquer(sessions, b.projet("p1", CALVI, CORSE, "100000.00"))
    await _appliquer(sessions, b.atteinte("p1", CALVI, CORSE, True))
    with pytest.raises(EvenementRefuse):
        await _appliquer(sessions, b.atteinte("p1", CALVI, CORSE, True))
    async with sessions() as s:
        lignes = (await s.scalars(select(LigneFinancement).where(LigneFinancement.candidature_id == "p1")
                                  .order_by(LigneFinancement.id))).all()
        engage = (await s.scalars(select(EcritureEnveloppe).where(EcritureEnveloppe.projet_id == "p1"))).all()
    assert [li.cle_metier for li in lignes] == ["aap/p1/aap_acceptation", "aap/p1/aap_atteinte"]
    assert sum((li.montant for li in lignes), D(0)) == D("100000.00")
    assert sorted(e.nature for e in engage).count("engagement") == 1


async def test_deux_eg_d_une_ej_declaree_au_niveau_ej_un_seul_forfait(sessions):
    """Review of issue 7: an EJ whose PMSI is declared at EJ level (ATIH exception); each EG fiche
    carries the EJ's AC. Whatever candidature reached instruction, one forfait per FINESS PMSI."""
    ej, eg1, eg2 = "2A0002705", "2A0002713", "2A0002721"
    await _appliquer(sessions, b.etablissement(ej, CORSE, "18530"))
    for eg in (eg1, eg2):
        await _appliquer(sessions, b.etablissement(eg, CORSE, "18530", finess_ej=ej, finess_pmsi=ej,
                                                   maille_phase1=ej))
    for cid, eg in (("eg1", eg1), ("eg2", eg2)):  # an EG is not the applicant for its activity
        with pytest.raises(EvenementRefuse) as exc:
            await _appliquer(sessions, b.validee(cid, eg, CORSE, ["P1.O1"]))
        assert exc.value.motif == "maille-invalide"
        assert f"la maille est {ej}" in str(exc.value)
    await _appliquer(sessions, b.validee("ej1", ej, CORSE, ["P1.O1"]))
    async with sessions() as s:
        lignes = (await s.scalars(select(LigneFinancement).where(
            LigneFinancement.cle_metier.like("phase1/%/P1.O1/amorcage"),
            LigneFinancement.finess.in_([ej, eg1, eg2])))).all()
    assert [(li.cle_metier, li.finess) for li in lignes] == [(f"phase1/{ej}/P1.O1/amorcage", ej)]
    assert lignes[0].montant == oracle.forfait_phase1("18530", "P1.O1", MAX)["amorcage"]


async def test_depenses_une_declaration_courante_celle_de_la_candidature_decidee(sessions):
    """Review of issue 7: declarations never add up. The same expense sent twice is refused; a
    closed candidature's declaration (the EJ applied alone, then within its GHT) pays nothing."""
    ej, support = "2A0002804", "2A0000014"
    await _appliquer(sessions, b.etablissement(ej, CORSE, "18530", effectifs=500))
    premiere = b.depenses("seule", ej, ej, CORSE, 2026, "80000.00")
    await _appliquer(sessions, premiere)
    with pytest.raises(EvenementRefuse) as exc:  # a double click, a producer's retry under a new id
        await _appliquer(sessions, b.depenses("seule", ej, ej, CORSE, 2026, "80000.00"))
    assert exc.value.motif == "paiement-en-double"
    correction = b.depenses("seule", ej, ej, CORSE, 2026, "90000.00",
                            remplace=premiere.data["declaration_id"])
    await _appliquer(sessions, correction)
    renvoyee = nouvel_evenement(decoder_payload(correction), source="/test", subject="candidature/seule")
    with pytest.raises(EvenementRefuse) as exc:  # the same declaration under a new event id
        await _appliquer(sessions, renvoyee)
    assert exc.value.motif == "paiement-en-double"
    # The GHT support's candidature declares for the same EJ and year; the ARS decides on it.
    await _appliquer(sessions, b.depenses("ght", support, ej, CORSE, 2026, "2000.00"))
    await _appliquer(sessions, b.annee_hc("ght", support, ej, CORSE, 2026, ["1.0"]))
    async with sessions() as s:
        (ligne,) = (await s.scalars(select(LigneFinancement).where(
            LigneFinancement.cle_metier == f"hospiconnect/{ej}/2026"))).all()
    # min(ceiling(500) x 40 %, 2 000.00): the 90 000 of the other candidature are not counted.
    attendu = oracle.montant_hospiconnect(500, ["1.0"], "2000.00")
    assert ligne.montant == attendu["montant"] == D("2000.00")


async def test_decision_et_declaration_concurrentes_le_montant_est_decide(sessions):
    """Review of issue 7: the decision and the declaration of one (EJ, year) applied at the same
    instant by two consumers: each used to see nothing of the other (write skew), nobody paid."""
    for rang in range(6):
        annee_ej = _finess_valide(f"2A00029{rang}")
        await _appliquer(sessions, b.etablissement(annee_ej, CORSE, "18530", effectifs=300))
        evenements = [b.annee_hc("cc", annee_ej, annee_ej, CORSE, 2026, ["1.0"]),
                      b.depenses("cc", annee_ej, annee_ej, CORSE, 2026, "1000.00")]
        await asyncio.gather(*(_appliquer(sessions, ev) for ev in evenements))
        async with sessions() as s:
            lignes = (await s.scalars(select(LigneFinancement).where(
                LigneFinancement.cle_metier == f"hospiconnect/{annee_ej}/2026"))).all()
        assert [li.montant for li in lignes] == [D("1000.00")], rang


def _finess_valide(debut: str) -> str:
    from hopen_common.finess import cle_finess_valide
    return next(debut + c for c in "0123456789" if cle_finess_valide(debut + c))


async def test_decision_corrigee_par_une_autre_candidature_sans_depenses(sessions):
    """Found by the stateful property (issue 7): the ARS corrects an EJ's year through the GHT
    support's candidature, which has declared nothing yet. The amount computed on the EJ's own
    candidature (its declaration no longer counts, its decision is replaced) used to stay current;
    it is now corrected to 0 (nothing declared by the decided candidature), until that one declares."""
    ej, support = _finess_valide("2A000300"), "2A0000014"
    await _appliquer(sessions, b.etablissement(ej, CORSE, "18530", effectifs=500))
    seule = b.annee_hc("seule", ej, ej, CORSE, 2027, ["1.0", "1.1"])
    await _appliquer(sessions, seule)
    await _appliquer(sessions, b.depenses("seule", ej, ej, CORSE, 2027, "90000.00"))
    await _appliquer(sessions, b.annee_hc("ght", support, ej, CORSE, 2027, ["1.0"],
                                          remplace=seule.data["decision_id"]))

    async def lignes() -> list[tuple[str, int, Decimal]]:
        async with sessions() as s:
            return [(li.candidature_id, li.version, li.montant) for li in (await s.scalars(
                select(LigneFinancement).where(LigneFinancement.cle_metier == f"hospiconnect/{ej}/2027")
                .order_by(LigneFinancement.version))).all()]
    premiere = oracle.montant_hospiconnect(500, ["1.0", "1.1"], "90000.00")["montant"]
    assert await lignes() == [("seule", 1, premiere), ("ght", 2, D("0.00"))]
    await _appliquer(sessions, b.depenses("ght", support, ej, CORSE, 2027, "2000.00"))
    assert (await lignes())[-1] == ("ght", 3, oracle.montant_hospiconnect(500, ["1.0"], "2000.00")["montant"])
