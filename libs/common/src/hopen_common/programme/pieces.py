"""Which pieces (documents) each dossier requires, as programme data, and the pure rules over it.

`data/pieces_v<version>.json` lists the piece *types* (the `type` code of PieceDeposee, its label,
accepted formats and source text) and the *exigences*: which types a dossier needs, at which level
(the dossier, or each member EJ), under which condition (outside a GHT, GHT support, shared identity
repository or not, AAP public GHT participant...), "one of" groups (the three capacity proofs of
annex 4) and the commitment letter that stays "to regularise". Readings: ADR 0012.

Candidature refuses a deposit until `manquantes(exigences(...))` is empty; instruction shows the ARS
`checklist(...)`: both call these functions on the same data, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, partial
from types import MappingProxyType
from typing import Any, Literal, get_args

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import DonneesProgrammeInvalides, lire_donnees, versions_disponibles

__all__ = [
    "CONDITIONS",
    "Dispositif",
    "DossierVu",
    "EtatPiece",
    "Exigence",
    "ExigenceProgramme",
    "LigneChecklist",
    "Manquante",
    "Niveau",
    "PieceRecue",
    "ProgrammePieces",
    "TypePiece",
    "charger_programme_pieces",
    "checklist",
    "construire_programme_pieces",
    "exigences",
    "formats_acceptes",
    "manquantes",
    "types_de_pieces",
]

Dispositif = Literal["phase1", "hospiconnect", "aap"]
Niveau = Literal["dossier", "ej"]
EtatPiece = Literal["fournie", "manquante", "a_regulariser"]
PreuveCapacite = Literal["convention", "costrat", "engagement"]

# The closed vocabulary of conditions: a data file naming another one is refused (a typo would
# otherwise silently make a piece never required).
CONDITIONS: Mapping[str, str] = MappingProxyType({
    "toujours": "every dossier of the dispositif",
    "hors_ght": "a dossier that is not a GHT support's",
    "ght": "a GHT support's dossier",
    "ght_referentiel_unique": "a GHT support declaring one identity repository shared by every EJ",
    "ght_sans_referentiel_unique": "a GHT support not declaring a shared identity repository",
    "preuve_annee": "HospiConnect evidence of a year (asked with `annee`, not at deposit)",
    "lettres_partenaires": "an AAP project declaring partner letters",
    "participant_public_ght": "each public GHT member taking part in an AAP project",
})
# Conditions whose requirement can be per EJ: the EJ come from the GHT perimeter or the participants.
_CONDITIONS_PAR_EJ = frozenset({"ght_sans_referentiel_unique", "preuve_annee", "participant_public_ght"})


@dataclass(frozen=True)
class TypePiece:
    code: str
    dispositif: Dispositif
    libelle: str
    formats: tuple[str, ...]  # format kinds ("pdf", "texte", ...), see ProgrammePieces.formats
    source: str
    choix: str | None = None  # the preuve_capacite value this type answers (capacity proofs)
    regularisee_par: tuple[str, ...] = ()  # a commitment letter: the pieces that regularise it
    objectif: str | None = None  # HospiConnect evidence: its objective and year
    annee: int | None = None


@dataclass(frozen=True)
class ExigenceProgramme:
    """One line of the data file's `exigences`: what a dossier needs under `condition`."""

    code: str  # the requirement's code, shown to the ARS (a type's code, or a group's)
    dispositif: Dispositif
    condition: str
    niveau: Niveau
    types: tuple[str, ...]  # one of these satisfies it
    libelle: str
    source: str
    selon_choix: str | None = None  # "preuve_capacite": the dossier's choice narrows `types`
    annee: int | None = None


@dataclass(frozen=True)
class ProgrammePieces:
    version: str
    reference: str
    formats: Mapping[str, tuple[str, ...]]  # format kind -> media types
    types: Mapping[str, TypePiece]
    exigences: tuple[ExigenceProgramme, ...]
    sdsi_anciennete_max_mois: int

    def type(self, code: str) -> TypePiece:
        try:
            return self.types[code]
        except KeyError:
            raise RegleMetierError(f"type de pièce inconnu : {code!r} (pièces v{self.version})",
                                   "type") from None


# --- parsing -----------------------------------------------------------------------------------

def _texte(valeur: object, ou: str) -> str:
    if not isinstance(valeur, str) or not valeur.strip():
        raise DonneesProgrammeInvalides(f"{ou} : texte non vide attendu, reçu {valeur!r}")
    return valeur


def _dispositif(valeur: object, ou: str) -> Dispositif:
    if valeur not in get_args(Dispositif):
        raise DonneesProgrammeInvalides(f"{ou} : dispositif {valeur!r} inconnu")
    return valeur  # type: ignore[return-value]


def construire_programme_pieces(donnees: Mapping[str, Any]) -> ProgrammePieces:
    """The pieces document, checked: every code known and of its dispositif, conditions from the
    closed vocabulary, per-EJ levels only where EJ exist, choices and regularisations consistent."""
    formats = {str(k): tuple(str(m) for m in v) for k, v in donnees["formats"].items()}
    if not formats or any(not v for v in formats.values()):
        raise DonneesProgrammeInvalides("formats : au moins un type de média par format")
    types: dict[str, TypePiece] = {}
    for i, t in enumerate(donnees["types"]):
        ou = f"types[{i}]"
        code = _texte(t["code"], f"{ou}.code")
        if code in types:
            raise DonneesProgrammeInvalides(f"type de pièce {code} en double")
        dispositif = _dispositif(t["dispositif"], f"{code}.dispositif")
        prefixe = {"phase1": "P1.", "hospiconnect": "HC.", "aap": "AAP."}[dispositif]
        if not code.startswith(prefixe):
            raise DonneesProgrammeInvalides(f"{code} : un type {dispositif} commence par {prefixe}")
        kinds = tuple(str(f) for f in t["formats"])
        if not kinds or any(f not in formats for f in kinds):
            raise DonneesProgrammeInvalides(f"{code} : formats {kinds} hors de {sorted(formats)}")
        annee = t.get("annee")
        types[code] = TypePiece(
            code=code, dispositif=dispositif, libelle=_texte(t["libelle"], f"{code}.libelle"), formats=kinds,
            source=_texte(t["source"], f"{code}.source"), choix=t.get("choix"),
            regularisee_par=tuple(t.get("regularisee_par", ())), objectif=t.get("objectif"),
            annee=None if annee is None else int(annee))
    for t in types.values():
        for r in t.regularisee_par:
            if r not in types or types[r].dispositif != t.dispositif or r == t.code:
                raise DonneesProgrammeInvalides(f"{t.code} : régularisé par {r}, type inconnu")

    exigences: list[ExigenceProgramme] = []
    for i, e in enumerate(donnees["exigences"]):
        code = _texte(e["code"], f"exigences[{i}].code")
        ou = f"exigence {code} ({e.get('condition')})"
        dispositif = _dispositif(e["dispositif"], ou)
        condition = str(e["condition"])
        if condition not in CONDITIONS:
            raise DonneesProgrammeInvalides(f"{ou} : condition inconnue (attendu : {', '.join(CONDITIONS)})")
        niveau = e["niveau"]
        if niveau not in get_args(Niveau):
            raise DonneesProgrammeInvalides(f"{ou} : niveau {niveau!r} inconnu")
        if niveau == "ej" and condition not in _CONDITIONS_PAR_EJ:
            raise DonneesProgrammeInvalides(f"{ou} : niveau ej sans entités juridiques à énumérer")
        codes = tuple(str(c) for c in e["types"])
        if not codes or len(set(codes)) != len(codes):
            raise DonneesProgrammeInvalides(f"{ou} : au moins un type, sans doublon")
        for c in codes:
            if c not in types or types[c].dispositif != dispositif:
                raise DonneesProgrammeInvalides(f"{ou} : type {c} inconnu pour {dispositif}")
        selon_choix = e.get("selon_choix")
        if selon_choix is not None:
            if selon_choix != "preuve_capacite":
                raise DonneesProgrammeInvalides(f"{ou} : selon_choix {selon_choix!r} inconnu")
            choix = [types[c].choix for c in codes]
            if None in choix or len(set(choix)) != len(choix) or set(choix) != set(get_args(PreuveCapacite)):
                raise DonneesProgrammeInvalides(f"{ou} : un type par choix de preuve de capacité attendu")
        annee = e.get("annee")
        if (condition == "preuve_annee") != (annee is not None):
            raise DonneesProgrammeInvalides(f"{ou} : une année exactement pour une preuve annuelle")
        exigences.append(ExigenceProgramme(
            code=code, dispositif=dispositif, condition=condition, niveau=niveau, types=codes,
            libelle=_texte(e["libelle"], f"{ou}.libelle"), source=_texte(e["source"], f"{ou}.source"),
            selon_choix=selon_choix, annee=None if annee is None else int(annee)))
    _verifier_exclusives(exigences)
    mois = int(donnees["criteres_ght"]["sdsi_anciennete_max_mois"])
    if mois <= 0:
        raise DonneesProgrammeInvalides("criteres_ght.sdsi_anciennete_max_mois : positif attendu")
    return ProgrammePieces(
        version=str(donnees["version"]), reference=str(donnees["source"]["reference"]),
        formats=MappingProxyType(formats), types=MappingProxyType(types), exigences=tuple(exigences),
        sdsi_anciennete_max_mois=mois)


# Two lines with one code must never both apply to a dossier: their conditions must exclude each other.
_EXCLUSIVES = (frozenset({"hors_ght", "ght"}),
               frozenset({"hors_ght", "ght_referentiel_unique", "ght_sans_referentiel_unique"}))


def _verifier_exclusives(exigences: Iterable[ExigenceProgramme]) -> None:
    par_code: dict[tuple[str, str], set[str]] = {}
    for e in exigences:
        conditions = par_code.setdefault((e.dispositif, e.code), set())
        if e.condition in conditions:
            raise DonneesProgrammeInvalides(f"exigence {e.code} : condition {e.condition} en double")
        conditions.add(e.condition)
    for (_, code), conditions in par_code.items():
        if len(conditions) > 1 and not any(conditions <= groupe for groupe in _EXCLUSIVES):
            raise DonneesProgrammeInvalides(
                f"exigence {code} : conditions {sorted(conditions)} non exclusives")


@cache
def charger_programme_pieces(version: str | None = None) -> ProgrammePieces:
    """The pieces document of `version` ("2026.1"), the latest shipped when None. Cached."""
    if version is None:
        return charger_programme_pieces(versions_disponibles("pieces")[-1])
    return construire_programme_pieces(lire_donnees("pieces", version))


def types_de_pieces(dispositif: str, programme: ProgrammePieces | None = None) -> frozenset[str]:
    """Every piece type code a dossier of `dispositif` may receive (required or not): the source of
    the upload hook `verifier_type_de_piece(dispositif, type)`. AAP projects: "aap"."""
    p = programme or charger_programme_pieces()
    return frozenset(t.code for t in p.types.values() if t.dispositif == dispositif)


def formats_acceptes(code: str, programme: ProgrammePieces | None = None) -> frozenset[str]:
    """The media types accepted for a piece type (detected from the content by the upload)."""
    p = programme or charger_programme_pieces()
    return frozenset(m for kind in p.type(code).formats for m in p.formats[kind])


# --- requirements of one dossier -----------------------------------------------------------------

@dataclass(frozen=True)
class DossierVu:
    """What the rules need to know of a dossier (candidature or AAP project), from either service."""

    dispositif: Dispositif
    # GHT support's dossier: the member EJ of its perimeter; None: not a GHT dossier.
    membres_ght: tuple[str, ...] | None = None
    # Phase-1 GHT: the GHT declares one identity repository shared by every EJ (annex 1, P1.P3).
    # None (not yet said) reads as "not shared": one procedure per EJ, the safe side.
    referentiel_identite_unique: bool | None = None
    preuve_capacite: PreuveCapacite | None = None  # phase-1 GHT: the capacity proof chosen
    lettres_partenaires: bool = False  # AAP: the project declares partner letters
    participants_publics_ght: tuple[str, ...] = ()  # AAP: participants that are public GHT members


@dataclass(frozen=True)
class Exigence:
    """One required piece of one dossier (per EJ: one Exigence per EJ)."""

    code: str
    libelle: str
    niveau: Niveau
    finess_ej: str | None
    types: tuple[str, ...]  # any one satisfies it
    source: str
    regularisee_par: tuple[str, ...] = ()  # the chosen type is a commitment letter to regularise
    annee: int | None = None


@dataclass(frozen=True)
class Manquante:
    code: str
    libelle: str
    finess_ej: str | None
    types: tuple[str, ...]  # the types that would satisfy it


def _applicable(condition: str, d: DossierVu, annee: int | None, e: ExigenceProgramme) -> bool:
    ght = d.membres_ght is not None
    match condition:
        case "toujours":
            return True
        case "hors_ght":
            return not ght
        case "ght":
            return ght
        case "ght_referentiel_unique":
            return ght and d.referentiel_identite_unique is True
        case "ght_sans_referentiel_unique":
            return ght and d.referentiel_identite_unique is not True
        case "preuve_annee":
            return annee is not None and e.annee == annee
        case "lettres_partenaires":
            return d.lettres_partenaires
        case "participant_public_ght":
            return bool(d.participants_publics_ght)
    raise AssertionError(condition)  # the loader refuses any other condition


def _ej(condition: str, d: DossierVu) -> tuple[str | None, ...]:
    if condition == "participant_public_ght":
        return tuple(sorted(set(d.participants_publics_ght)))
    # Outside a GHT an "ej" requirement is the dossier's own: the piece names no EJ (finess_ej None).
    return (None,) if d.membres_ght is None else tuple(sorted(set(d.membres_ght)))


def exigences(dossier: DossierVu, programme: ProgrammePieces, *, annee: int | None = None
              ) -> list[Exigence]:
    """The pieces `dossier` requires, in data-file order (per EJ sorted by FINESS). Without `annee`:
    what the deposit needs; with it (HospiConnect): that year's evidence documents too."""
    resultat: list[Exigence] = []
    for e in programme.exigences:
        if e.dispositif != dossier.dispositif or not _applicable(e.condition, dossier, annee, e):
            continue
        types = e.types
        if e.selon_choix == "preuve_capacite" and dossier.preuve_capacite is not None:
            types = tuple(c for c in e.types if programme.types[c].choix == dossier.preuve_capacite)
        regularisee_par = programme.types[types[0]].regularisee_par if len(types) == 1 else ()
        libelle = e.libelle if len(types) > 1 else (
            programme.types[types[0]].libelle if e.selon_choix else e.libelle)
        ejs = _ej(e.condition, dossier) if e.niveau == "ej" else (None,)
        resultat.extend(Exigence(code=e.code, libelle=libelle, niveau=e.niveau, finess_ej=ej, types=types,
                                 source=e.source, regularisee_par=regularisee_par, annee=e.annee)
                        for ej in ejs)
    return resultat


def manquantes(exigences_: Iterable[Exigence], pieces_deposees: Iterable[tuple[str, str | None]]
               ) -> list[Manquante]:
    """Every requirement no deposited piece satisfies. `pieces_deposees`: (type, finess_ej) pairs; a
    "one of" requirement is met by any of its types, a commitment letter also by what regularises
    it (the COSTRAT decision arrived first)."""
    deposees = set(pieces_deposees)
    return [Manquante(e.code, e.libelle, e.finess_ej, e.types) for e in exigences_
            if not any((t, e.finess_ej) in deposees for t in (*e.types, *e.regularisee_par))]


# --- the ARS checklist -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PieceRecue:
    """The latest version of one (type, finess_ej) on a dossier."""

    type: str
    finess_ej: str | None
    piece_id: str
    version: int
    sha256: str
    nom: str
    depose_le: datetime


@dataclass(frozen=True)
class LigneChecklist:
    code: str
    libelle: str
    niveau: Niveau
    finess_ej: str | None
    etat: EtatPiece
    types: tuple[str, ...]
    piece: PieceRecue | None = None  # the piece that satisfies it (the letter, when a_regulariser)
    echeance: date | None = None  # a_regulariser: the due date the support gave
    en_retard: bool = False
    annee: int | None = None
    autres: tuple[PieceRecue, ...] = field(default=())  # other pieces of the line's types (one of)


def checklist(exigences_: Iterable[Exigence], pieces: Iterable[PieceRecue], *,
              a_regulariser_le: date | None, aujourd_hui: date) -> list[LigneChecklist]:
    """Per required piece its state: `fournie` (the latest version of the first type present),
    `manquante`, or `a_regulariser` (a commitment letter without what regularises it yet; `en_retard`
    once `a_regulariser_le` is past, a deadline day being included)."""
    par_cle: dict[tuple[str, str | None], PieceRecue] = {}
    for p in pieces:
        cle = (p.type, p.finess_ej)
        if cle not in par_cle or p.version > par_cle[cle].version:
            par_cle[cle] = p
    lignes: list[LigneChecklist] = []
    for e in exigences_:
        regularisation = next((par_cle[(t, e.finess_ej)] for t in e.regularisee_par
                               if (t, e.finess_ej) in par_cle), None)
        trouvees = [par_cle[(t, e.finess_ej)] for t in e.types if (t, e.finess_ej) in par_cle]
        ligne = partial(LigneChecklist, code=e.code, libelle=e.libelle, niveau=e.niveau,
                        finess_ej=e.finess_ej, types=e.types, annee=e.annee)
        if regularisation is not None:
            lignes.append(ligne(etat="fournie", piece=regularisation, autres=tuple(trouvees)))
        elif trouvees and e.regularisee_par:
            # The letter allowed the deposit; until the instance's decision arrives it is owed.
            retard = a_regulariser_le is not None and aujourd_hui > a_regulariser_le
            lignes.append(ligne(etat="a_regulariser", piece=trouvees[0], echeance=a_regulariser_le,
                                en_retard=retard))
        elif trouvees:
            lignes.append(ligne(etat="fournie", piece=trouvees[0], autres=tuple(trouvees[1:])))
        else:
            lignes.append(ligne(etat="manquante"))
    return lignes
