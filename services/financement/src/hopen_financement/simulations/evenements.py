"""The amounts financement would compute from decision events, nothing stored (ADR 0018).

The consumers' own functions and rules, on the same copies (AC, national maximum, amorcage paid), stop
short of writing: a dry run of an ARS lot (instruction) sends the events its decisions would publish."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureValidee,
    ObjectifAtteint,
    ObjectifNonAtteint,
    ProjetAapSelectionne,
)
from hopen_common.events import Evenement, EvenementInconnuError, PayloadInvalideError, decoder_payload
from hopen_common.inbox import EvenementRefuse
from hopen_common.problemes import MONTANT_NON_CALCULABLE
from hopen_common.programme.aap import charger_programme_aap
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_common.simulations import MontantSimule, ResultatSimulation, probleme_de, probleme_du_type
from hopen_financement.aap.rules import tranches
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.etablissements.repository import activite_combinee_max_nationale
from hopen_financement.forfaits import service as forfaits
from hopen_financement.forfaits.models import CandidatureFinancee, PerimetreFinance
from hopen_financement.forfaits.rules import calculer_forfait_phase1, solder_objectif
from hopen_financement.notifications import repository as lignes_payees
from hopen_financement.notifications.cles import cle_phase1
from hopen_financement.notifications.service import exiger_cles_libres
from hopen_financement.notifications.succession import PAIEMENT_EN_DOUBLE

ZERO = Decimal("0.00")


async def _candidature_validee(session: AsyncSession, e: CandidatureValidee, maximum: Decimal | None,
                               *, region: str | None, reservees: dict[str, str]
                               ) -> tuple[list[MontantSimule], str | None]:
    if e.dispositif != forfaits.DISPOSITIF:
        return [], "HospiConnect : rien n'est payé à la validation, le montant se décide par année"
    programme = charger_programme_phase1()
    perimetre = forfaits._perimetre(e)
    if region is not None:
        # An ARS simulates its region's establishments only: another region's EJ answers exactly as
        # an unknown one (its activity is not read).
        for membre in perimetre:
            etab = await session.get(EtablissementConnu, membre.finess_ej)
            if etab is None or etab.region != region:
                raise DonneeManquante(f"{membre.finess_ej} inconnu de la base des établissements éligibles")
    pmsi = {m.finess_ej: await forfaits._finess_pmsi(session, e, m) for m in perimetre}
    cles = [cle_phase1(pmsi[m.finess_ej], o, "amorcage") for m in perimetre for o in m.objectifs]
    await exiger_cles_libres(session, cles, quoi=f"amorçage de la candidature {e.candidature_id}")
    # An earlier event of the same batch (a lot naming two candidatures of one EJ) would be paid
    # first: this one would then find the key paid, as the consumer would.
    for cle in cles:
        if cle in reservees:
            raise EvenementRefuse(PAIEMENT_EN_DOUBLE, f"amorçage de la candidature {e.candidature_id} :"
                                  f" {cle} serait déjà payé par la candidature {reservees[cle]} du même lot")
    if maximum is None:
        raise DonneeManquante("base des établissements éligibles vide : maximum national inconnu")
    montants = []
    for membre in perimetre:
        ac, _, _ = await forfaits._activite(session, membre)
        for objectif in membre.objectifs:
            c = calculer_forfait_phase1(ac, objectif, maximum, programme)
            montants.append(MontantSimule(finess_ej=membre.finess_ej, objectif=objectif, nature="amorcage",
                                          montant=c.amorcage, forfait=c.forfait))
    reservees.update(dict.fromkeys(cles, e.candidature_id))
    return montants, None


async def _objectif_decide(session: AsyncSession, e: ObjectifAtteint | ObjectifNonAtteint, *,
                           region: str | None) -> tuple[list[MontantSimule], str | None]:
    candidature = await session.get(CandidatureFinancee, e.candidature_id)
    # Another region's candidature answers exactly as an unknown one (ARS: its region only).
    if candidature is None or (region is not None and candidature.region != region):
        raise DonneeManquante(f"candidature {e.candidature_id} non validée dans financement")
    finess_ej = e.finess_ej or candidature.finess
    perimetre = await session.get(PerimetreFinance, (e.candidature_id, finess_ej))
    if perimetre is None or e.objectif not in perimetre.objectifs:
        raise DonneeManquante(f"{finess_ej} {e.objectif} sans amorçage dans financement")
    amorcage = await lignes_payees.ligne_courante(session, cle_phase1(perimetre.finess_pmsi, e.objectif,
                                                                      "amorcage"))
    if amorcage is None:
        raise DonneeManquante(f"amorçage de {finess_ej} {e.objectif} inconnu de financement")
    nature, montant = solder_objectif(amorcage.forfait, amorcage.montant, isinstance(e, ObjectifAtteint))
    # The solde is notified once every objective is decided; this is the line it will hold.
    return [MontantSimule(finess_ej=finess_ej, objectif=e.objectif, nature=nature, montant=montant,
                          forfait=amorcage.forfait)], None


def _projet_selectionne(e: ProjetAapSelectionne) -> tuple[list[MontantSimule], str | None]:
    return [MontantSimule(nature=t.nature, montant=t.montant, annee=t.annee)
            for t in tranches(e.montant_accorde, charger_programme_aap())], None


async def simuler(session: AsyncSession, evenements: list[Evenement], *, region: str | None
                  ) -> list[ResultatSimulation]:
    """Per event, in order: the amounts, or the problem that would park it; reads only. `region`:
    the caller's (an ARS reads what financement holds of its region only); None for the DNS."""
    maximum = None
    if any(e.type == "CandidatureValidee" for e in evenements):
        maximum = await activite_combinee_max_nationale(session)  # once for the whole batch
    resultats = []
    reservees: dict[str, str] = {}  # amorçage key -> the candidature of the batch that would pay it
    for evenement in evenements:
        montants: list[MontantSimule] = []
        note = probleme = None
        try:
            payload = decoder_payload(evenement)
            if isinstance(payload, CandidatureValidee):
                montants, note = await _candidature_validee(session, payload, maximum, region=region,
                                                            reservees=reservees)
            elif isinstance(payload, ObjectifAtteint | ObjectifNonAtteint):
                montants, note = await _objectif_decide(session, payload, region=region)
            elif isinstance(payload, ProjetAapSelectionne):
                montants, note = _projet_selectionne(payload)
            else:
                note = "cet événement ne produit aucun montant"
        except (EvenementInconnuError, PayloadInvalideError) as exc:
            probleme = probleme_du_type(MONTANT_NON_CALCULABLE, f"événement illisible : {exc}", "evenements")
        except (DonneeManquante, EvenementRefuse) as exc:
            probleme = probleme_du_type(MONTANT_NON_CALCULABLE, str(exc))
        except Exception as exc:
            probleme = probleme_de(exc)
            if probleme is None:
                raise
        total = sum((-m.montant if m.nature == "reprise" else m.montant for m in montants), ZERO)
        resultats.append(ResultatSimulation(evenement_id=evenement.id, type=evenement.type,
                                            montants=montants, total=total, probleme=probleme, note=note))
    return resultats
