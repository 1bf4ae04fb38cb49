"""HospiConnect evidence and declared expenses (domain.md 4, instruction DNS/2025/180 annexes 1-2).
Pure: no I/O."""

from __future__ import annotations

from decimal import Decimal

from hopen_candidature.candidatures.rules import Fenetre
from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect


def objectifs_de_l_annee(annee: int, programme: ProgrammeHospiconnect) -> tuple[str, ...]:
    """Objectives with a target that year; a year outside the dispositif is refused, naming `annee`."""
    return programme.objectifs_de(annee)


def fenetre_depenses(annee: int, programme: ProgrammeHospiconnect) -> Fenetre:
    """[reading] Expenses of year N are declared until the ARS instruction of year N closes (15 September
    N): the amount is decided and paid on that year's instruction."""
    objectifs_de_l_annee(annee, programme)
    return Fenetre(None, programme.calendrier.annees[annee].fin_instruction)


def fenetre_preuves(annee: int, programme: ProgrammeHospiconnect) -> Fenetre:
    """Evidence of year N until that year's evidence deadline (26 June 2026, 11 June 2027, 16 June 2028)."""
    objectifs_de_l_annee(annee, programme)
    return Fenetre(None, programme.calendrier.annees[annee].fin_depot_preuves)


def verifier_montant(montant: Decimal) -> Decimal:
    """Declared expenses are money (to the cent, within the columns' bounds) and never negative."""
    return exiger_centimes(montant, "montant", signe="positif")


def verifier_remplacement(ancienne: tuple[str, int] | None, remplacee_par: str | None,
                          finess_ej: str, annee: int, remplace: str) -> None:
    """A correction names a current declaration of the same EJ and year (each replaced at most once).
    `ancienne`: (finess_ej, annee) of the named declaration, None when the candidature has none."""
    if ancienne is None:
        raise RegleMetierError(f"déclaration remplacée {remplace} inconnue pour cette candidature",
                               "remplace")
    if ancienne != (finess_ej, annee):
        raise RegleMetierError(
            f"la déclaration {remplace} porte sur {ancienne[0]} {ancienne[1]} : une correction porte sur"
            " la même entité juridique et la même année", "remplace")
    if remplacee_par is not None:
        raise RegleMetierError(f"la déclaration {remplace} est déjà remplacée par {remplacee_par}",
                               "remplace")


def verifier_piece_de_preuve(trouvee: bool, piece_ej: str | None, piece_id: str, finess_ej: str) -> None:
    """An evidence document is a piece of this candidature (`trouvee`) about the evidence's EJ, or about
    the whole dossier (`piece_ej` None)."""
    if not trouvee:
        raise RegleMetierError(f"la pièce {piece_id} n'est pas une pièce de cette candidature : déposez-la"
                               " d'abord (POST .../pieces)", "piece_id")
    if piece_ej not in (None, finess_ej):
        raise RegleMetierError(f"la pièce {piece_id} concerne l'entité juridique {piece_ej}, pas {finess_ej}",
                               "piece_id")


def verifier_preuve(objectif: str, annee: int, programme: ProgrammeHospiconnect, *, document: bool,
                    numerateur: int | None, denominateur: int | None) -> str:
    """Evidence matches the objective: a document for 1.0-1.4, a rate for 2.1 and 2.2, only for an
    objective with a target that year. Returns the nature ("document" or "taux")."""
    definition = programme.objectifs.get(objectif)
    if definition is None:
        raise RegleMetierError(f"objectif HospiConnect inconnu : {objectif}", "objectif")
    if objectif not in objectifs_de_l_annee(annee, programme):
        raise RegleMetierError(f"l'objectif {objectif} n'a pas de cible en {annee}", "objectif")
    if definition.preuve == "document":
        if not document:
            raise RegleMetierError(f"l'objectif {objectif} se prouve par un document : une pièce déposée"
                                   " (piece_id)", "piece_id")
        if numerateur is not None or denominateur is not None:
            raise RegleMetierError(f"l'objectif {objectif} se prouve par un document, pas par un taux",
                                   "numerateur" if numerateur is not None else "denominateur")
        return "document"
    if document:
        raise RegleMetierError(f"l'objectif {objectif} se prouve par un taux (numérateur/dénominateur)",
                               "piece_id")
    if numerateur is None:
        raise RegleMetierError(f"l'objectif {objectif} se prouve par un taux : numérateur manquant",
                               "numerateur")
    if denominateur is None:
        raise RegleMetierError(f"l'objectif {objectif} se prouve par un taux : dénominateur manquant",
                               "denominateur")
    if denominateur <= 0:
        raise RegleMetierError("le dénominateur doit être strictement positif", "denominateur")
    if not 0 <= numerateur <= denominateur:
        raise RegleMetierError("le numérateur doit être compris entre 0 et le dénominateur", "numerateur")
    return "taux"
