"""Pieces of a dossier (issue 8): which type codes are accepted, which EJ a piece is about, and the
HTTP details of a download (ranges, ETag, file name). Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.perimetre import ej_visee

# A type code as the programme data writes them (P1.P1, GHT.CAPACITE, HC.ADM.FICHE, AAP.LETTRE).
MOTIF_TYPE: Final = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,39}")

# INTERIM, to be replaced by the programme data of the required pieces (issue 8 item 4, written in
# parallel): the codes each dispositif accepts. verifier_type_de_piece takes the programme's set
# through `codes`; until then this constant is the default. The GHT variants of annex 4 (2024/123),
# the HospiConnect administrative pieces (§2.1 of 2025/180, named by the other half of the issue)
# and evidence of objectives 1.0-1.4, the AAP team, letters and GHT validation.
TYPES_DE_PIECE: Final[Mapping[str, frozenset[str]]] = {
    "phase1": frozenset({
        "P1.P1", "P1.P2", "P1.P3", "P1.P4",
        "P1.P1.GHT", "P1.P2.GHT", "P1.P3.GHT", "P1.P4.GHT",
        "GHT.CAPACITE", "GHT.DSI", "GHT.SDSI", "GHT.CONVERGENCE",
    }),
    "hospiconnect": frozenset({
        "HC.ADM.FICHE", "HC.ADM.ENGAGEMENT", "HC.ADM.RIB",
        "HC.1.0", "HC.1.1", "HC.1.2", "HC.1.3", "HC.1.4",
    }),
    "aap": frozenset({"AAP.EQUIPE", "AAP.LETTRE", "AAP.VALIDATION_GHT"}),
}
TYPE_LETTRE_PARTENAIRE: Final = "AAP.LETTRE"
NOM_MAX: Final = 255


def verifier_type_de_piece(dispositif: str, type_: str, *, codes: Collection[str] | None = None) -> str:
    """The hook the programme data fills: `type_` must be a code (MOTIF_TYPE) and one of `codes`, the
    dispositif's piece types (default: the interim TYPES_DE_PIECE). Refusals name `type`."""
    if not MOTIF_TYPE.fullmatch(type_):
        raise RegleMetierError(f"type de pièce invalide : {type_[:50]!r} (un code, ex. P1.P1)", "type")
    connus = TYPES_DE_PIECE.get(dispositif, frozenset()) if codes is None else codes
    if type_ not in connus:
        raise RegleMetierError(f"type de pièce inconnu pour le dispositif {dispositif} : {type_}"
                               f" (attendu : {', '.join(sorted(connus))})", "type")
    return type_


def ej_de_la_piece(finess_ej: str | None, *, perimetre: Sequence[Mapping[str, Any]] | None,
                   finess: str, participants: Sequence[str] | None = None) -> str | None:
    """Which EJ a piece is about. None: the whole dossier (the field left out). A candidature: a member
    of its GHT perimeter (`ej_visee`); naming the applicant of a candidature without perimeter is the
    dossier itself (None, so that its versions are one series). A project: one of its participants."""
    if finess_ej is None:
        return None
    if participants is not None:
        if finess_ej not in participants:
            raise RegleMetierError(f"{finess_ej} ne participe pas au projet", "finess_ej")
        return finess_ej
    visee = ej_visee(finess_ej, perimetre, finess)
    return None if perimetre is None else visee


def nom_de_fichier(brut: str | None, *, defaut: str) -> str:
    """The client's file name as metadata: its last path component (some clients send a full path),
    without control characters, at most NOM_MAX characters; `defaut` when nothing is left."""
    nom = (brut or "").replace("\\", "/").rsplit("/", 1)[-1]
    nom = "".join(c for c in unicodedata.normalize("NFC", nom) if unicodedata.category(c)[0] != "C")
    nom = nom.strip().lstrip(".") or defaut
    if len(nom) > NOM_MAX:
        racine, point, extension = nom.rpartition(".")
        nom = (racine[: NOM_MAX - len(extension) - 1] + "." + extension if point and len(extension) <= 10
               else nom[:NOM_MAX])
    return nom


def content_disposition(nom: str) -> str:
    """`attachment` with an ASCII fallback and the exact name in RFC 5987 form (RFC 6266 4.3): no
    name can break out of the header, whatever its quotes, semicolons or non-ASCII characters."""
    repli = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\;%' else "_" for c in nom)
    return f"attachment; filename=\"{repli}\"; filename*=UTF-8''{quote(nom, safe='')}"


class PlageNonSatisfiable(ValueError):
    """A byte range none of whose bytes exist (HTTP 416)."""


_OCTETS: Final = re.compile(r"[0-9]{1,19}")


def plage_demandee(entete: str | None, taille: int) -> tuple[int, int] | None:
    """The `Range` header as a half-open [debut, fin), or None for the whole piece. One range of
    bytes only: several ranges, another unit or a malformed value are ignored (RFC 9110 14.2 lets a
    server send the whole representation); a range starting past the end is unsatisfiable."""
    if entete is None:
        return None
    unite, egal, spec = entete.partition("=")
    if not egal or unite.strip().lower() != "bytes" or "," in spec:
        return None
    premier, tiret, dernier = spec.strip().partition("-")
    premier, dernier = premier.strip(), dernier.strip()
    if not tiret:
        return None
    if not premier:  # bytes=-n: the last n bytes
        if not _OCTETS.fullmatch(dernier):
            return None
        n = int(dernier)
        if n == 0:
            raise PlageNonSatisfiable("suffixe de longueur nulle")
        return max(0, taille - n), taille
    if not _OCTETS.fullmatch(premier) or (dernier and not _OCTETS.fullmatch(dernier)):
        return None
    debut = int(premier)
    if dernier and int(dernier) < debut:
        return None  # invalid (RFC 9110 14.1.1): ignored, not unsatisfiable
    if debut >= taille:
        raise PlageNonSatisfiable(f"octet {debut} au-delà de la fin ({taille} octets)")
    return debut, min(int(dernier) + 1, taille) if dernier else taille


def etag(sha256: str) -> str:
    return f'"{sha256}"'


def etag_correspond(if_none_match: str | None, sha256: str) -> bool:
    """`If-None-Match` names this piece's ETag (weak comparison, RFC 9110 13.1.2), or is `*`."""
    if if_none_match is None:
        return False
    valeurs = [v.strip() for v in if_none_match.split(",")]
    return "*" in valeurs or etag(sha256) in [v.removeprefix("W/") for v in valeurs]
