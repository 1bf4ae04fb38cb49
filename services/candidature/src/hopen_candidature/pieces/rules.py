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
from hopen_common.programme.pieces import formats_acceptes, types_de_pieces

# A type code as the programme data writes them (P1.P1, P1.GHT.COSTRAT, HC.1.0.2026, AAP.LETTRE).
MOTIF_TYPE: Final = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,39}")

TYPE_LETTRE_PARTENAIRE: Final = "AAP.LETTRE"
NOM_MAX: Final = 255


def verifier_type_de_piece(dispositif: str, type_: str, *, codes: Collection[str] | None = None) -> str:
    """`type_` must be a code (MOTIF_TYPE) and one of `codes`, the dispositif's piece types (default:
    the programme's pieces data, `types_de_pieces`, ADR 0012). Refusals name `type`."""
    if not MOTIF_TYPE.fullmatch(type_):
        raise RegleMetierError(f"type de pièce invalide : {type_[:50]!r} (un code, ex. P1.P1)", "type")
    connus = types_de_pieces(dispositif) if codes is None else codes
    if type_ not in connus:
        raise RegleMetierError(f"type de pièce inconnu pour le dispositif {dispositif} : {type_}"
                               f" (attendu : {', '.join(sorted(connus))})", "type")
    return type_


def verifier_format(type_: str, media_type: str, *, formats: Collection[str] | None = None) -> None:
    """The detected media type is one the piece type accepts (programme data: a questionnaire may be a
    spreadsheet, a charter a text or a PDF...). Refusal names `fichier`."""
    acceptes = formats_acceptes(type_) if formats is None else formats
    if media_type not in acceptes:
        raise FormatNonAccepte(f"une pièce {type_} est attendue en {', '.join(sorted(acceptes))} ;"
                               f" le fichier est {media_type}")


class FormatNonAccepte(ValueError):
    """The content is an accepted kind of file, not one this piece type accepts (HTTP 415)."""


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
