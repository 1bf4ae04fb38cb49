"""What a correction request may name, whether it is late, and the piece-by-piece diff: pure rules."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hopen_common.contracts.etats import CHAMPS_CORRIGEABLES
from hopen_common.programme.erreurs import RegleMetierError


def verifier_demande(*, pieces: Sequence[tuple[str, str | None]], champs: Sequence[str], echeance: date,
                     aujourd_hui: date, types_connus: Collection[str], membres: Collection[str] | None,
                     criteres_ght: bool) -> None:
    """A request names at least one piece or field, each known for this dossier, and a due date to
    come. `membres`: a GHT dossier's member EJ (None: not a GHT, no piece per EJ). Refusals name
    the field."""
    if not pieces and not champs:
        raise RegleMetierError("une demande de correction nomme au moins une pièce ou un champ", "pieces")
    for i, (type_, finess_ej) in enumerate(pieces):
        if type_ not in types_connus:
            raise RegleMetierError(f"type de pièce inconnu pour ce dossier : {type_[:50]}"
                                   f" (attendu : {', '.join(sorted(types_connus))})", f"pieces[{i}].type")
        if finess_ej is not None and (membres is None or finess_ej not in membres):
            raise RegleMetierError(f"{finess_ej} n'est pas une entité juridique du périmètre du dossier",
                                   f"pieces[{i}].finess_ej")
    if len(set(pieces)) != len(pieces):
        raise RegleMetierError("une pièce est nommée deux fois", "pieces")
    for i, champ in enumerate(champs):
        if champ not in CHAMPS_CORRIGEABLES:
            raise RegleMetierError(f"champ non corrigeable : {champ[:80]} (attendu : "
                                   f"{', '.join(CHAMPS_CORRIGEABLES)})", f"champs[{i}]")
        if not criteres_ght:
            raise RegleMetierError("les critères GHT (annexe 4) ne sont ceux que d'un support de GHT en"
                                   " phase 1", f"champs[{i}]")
    if len(set(champs)) != len(champs):
        raise RegleMetierError("un champ est nommé deux fois", "champs")
    if echeance <= aujourd_hui:
        raise RegleMetierError(f"l'échéance {echeance.isoformat()} doit être postérieure à aujourd'hui",
                               "echeance")


def en_retard(echeance: date, *, repondue: bool, aujourd_hui: date) -> bool:
    """A request past its due date (the due day included) and still unanswered."""
    return not repondue and aujourd_hui > echeance


@dataclass(frozen=True)
class Version:
    piece_id: str
    type: str
    finess_ej: str | None
    version: int
    sha256: str
    nom: str
    depose_le: datetime


def diff_pieces(demandees: Sequence[tuple[str, str | None]], versions: Sequence[Version], *,
                depuis: datetime, jusqu_a: datetime | None) -> list[dict[str, Any]]:
    """For each piece named: the version current when the request was made (`depuis`) and the latest
    one deposited after it (until the answer, `jusqu_a`), with their hashes; `modifiee` says whether a
    new version came."""
    resultat = []
    for type_, finess_ej in demandees:
        les_siennes = sorted((v for v in versions if v.type == type_ and v.finess_ej == finess_ej),
                             key=lambda v: v.version)
        avant = [v for v in les_siennes if v.depose_le <= depuis]
        apres = [v for v in les_siennes
                 if v.depose_le > depuis and (jusqu_a is None or v.depose_le <= jusqu_a)]
        ancienne = avant[-1] if avant else None
        nouvelle = apres[-1] if apres else None
        resultat.append({"type": type_, "finess_ej": finess_ej,
                         "avant": None if ancienne is None else _version(ancienne),
                         "apres": None if nouvelle is None else _version(nouvelle),
                         "modifiee": nouvelle is not None})
    return resultat


def _version(v: Version) -> dict[str, Any]:
    return {"piece_id": v.piece_id, "version": v.version, "sha256": v.sha256, "nom": v.nom,
            "depose_le": v.depose_le}
