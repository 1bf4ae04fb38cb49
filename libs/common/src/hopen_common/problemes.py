"""The catalogue of problem types (RFC 9457): each declared once, with its status and title.

Code raises a problem by name, never by retyping its status and code (which drifted:
`deja-decide` / `deja-decidee`):

    raise DEJA_DECIDEE.erreur(f"projet {projet.id} : {deja.decision}", champ="decision")

The title is the type's, the same for every occurrence (RFC 9457 3.1.3); what differs between
occurrences goes in `detail`, `champ` and `extra`. A problem's `type` is
`PROBLEM_BASE + code`; clients match on it, so a code never changes once published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

PROBLEM_BASE = "https://hopen.sante.gouv.fr/problemes/"


class ProblemError(Exception):
    """An error the API answers as problem+json. Build it with `TypeProbleme.erreur`."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        champ: str | None = None,
        extra: dict[str, Any] | None = None,
        entetes: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.champ = champ
        self.extra = extra or {}
        # Response headers some statuses call for (416: Content-Range: bytes */<size>).
        self.entetes = entetes or {}


_CATALOGUE: dict[str, TypeProbleme] = {}


@dataclass(frozen=True)
class TypeProbleme:
    code: str
    status: int
    title: str

    def __post_init__(self) -> None:
        # One declaration per code: a second one (even identical) is a drift in the making.
        if self.code in _CATALOGUE:
            raise ValueError(f"type de problème {self.code!r} déclaré deux fois")
        if not 400 <= self.status <= 599:
            raise ValueError(f"type de problème {self.code!r} : statut HTTP d'erreur attendu ({self.status})")
        _CATALOGUE[self.code] = self

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code

    def erreur(self, detail: str | None = None, *, champ: str | None = None,
               extra: dict[str, Any] | None = None, entetes: dict[str, str] | None = None
               ) -> ProblemError:
        """The exception to raise for one occurrence of this problem."""
        return ProblemError(self.status, self.code, self.title, detail, champ=champ, extra=extra,
                            entetes=entetes)


# --- mechanisms (libs/common handlers and helpers) -------------------------------------------------
VALIDATION = TypeProbleme("validation", 422, "Requête invalide")
# A text PostgreSQL cannot store (a NUL byte, U+0000, in a field or a path): refused, never a 500.
CARACTERE_INTERDIT = TypeProbleme("caractere-interdit", 422, "Caractère interdit")
REGLE_METIER = TypeProbleme("regle-metier", 422, "Règle métier non respectée")
INTROUVABLE = TypeProbleme("introuvable", 404, "Ressource introuvable")
NON_AUTHENTIFIE = TypeProbleme("non-authentifie", 401, "Authentification requise")
INTERDIT = TypeProbleme("interdit", 403, "Accès interdit")
# Issue 10 (ADR 0019): a token refused (issuer, audience, exp, nbf, algorithm, typ, key, claims), the
# detail says what; and an identity the provider vouches for but to which we gave no rights.
JETON_INVALIDE = TypeProbleme("jeton-invalide", 401, "Jeton invalide")
SANS_HABILITATION = TypeProbleme("sans-habilitation", 403, "Identité sans habilitation")
# Rights management (ADR 0022): nobody changes their own rights; one habilitation per person and issuer.
AUTO_HABILITATION = TypeProbleme("auto-habilitation", 403, "Vos propres habilitations")
HABILITATION_EXISTANTE = TypeProbleme("habilitation-existante", 409, "Habilitation déjà enregistrée")
VERSION_PERIMEE = TypeProbleme("version-perimee", 412, "Version périmée")
METHODE_NON_PERMISE = TypeProbleme("methode-non-permise", 405, "Méthode non permise")
# Issue 12 (hopen_common.garde_fous, ADR 0027): what every request is checked for before a route reads it.
CORPS_TROP_GRAND = TypeProbleme("corps-trop-grand", 413, "Corps de requête trop volumineux")
MEDIA_TYPE_REFUSE = TypeProbleme("media-type-refuse", 415, "Type de contenu refusé")
ENCODAGE_INVALIDE = TypeProbleme("encodage-invalide", 422, "Encodage invalide")
# Any other HTTPException (413, 415...): the one type whose answer keeps the exception's own status;
# 500 here is only its declared default.
HTTP = TypeProbleme("http", 500, "Erreur HTTP")
ROLE_INTERDIT = TypeProbleme("role-interdit", 403, "Rôle non autorisé")
HORS_PERIMETRE = TypeProbleme("hors-perimetre", 403, "Hors de votre périmètre")
# The two-person rule (issue 10, hopen_common.propositions): the proposer never confirms its own proposal.
QUATRE_YEUX = TypeProbleme("quatre-yeux", 403, "Une autre personne doit confirmer")
PROPOSITION_DEJA_TRAITEE = TypeProbleme("proposition-deja-traitee", 409,
                                        "Proposition déjà confirmée ou rejetée")
PROPOSITION_EN_ATTENTE = TypeProbleme("proposition-en-attente", 409,
                                      "Une proposition attend déjà sa confirmation")
# The decision would now produce other amounts than those its proposal showed the valideur (ADR 0023):
# nothing is decided; and financement could not recompute them to check (retry later).
PROPOSITION_PERIMEE = TypeProbleme("proposition-perimee", 409, "Montants de la proposition périmés")
MONTANTS_NON_VERIFIABLES = TypeProbleme("montants-non-verifiables", 503,
                                        "Montants de la proposition non vérifiables")
IDEMPOTENCY_KEY_INVALIDE = TypeProbleme("idempotency-key-invalide", 400, "Clé d'idempotence invalide")
IDEMPOTENCY_KEY_REUTILISEE = TypeProbleme("idempotency-key-reutilisee", 422,
                                          "Clé d'idempotence déjà utilisée")
LETTRE_NON_GAREE = TypeProbleme("lettre-non-garee", 409, "Événement non garé")
REJEU_EN_ECHEC = TypeProbleme("rejeu-en-echec", 409, "Le rejeu a échoué")

# --- states of candidatures, dossiers and projects --------------------------------------------------
# deja-decide (4 uses) and deja-decidee (1) were one problem: deja-decidee. Likewise deja-depose and
# deja-deposee: deja-deposee.
DEJA_DECIDEE = TypeProbleme("deja-decidee", 409, "Décision déjà prise")
DEJA_DEPOSEE = TypeProbleme("deja-deposee", 409, "Dépôt déjà effectué")
DEJA_CANDIDAT = TypeProbleme("deja-candidat", 409, "Candidature déjà ouverte")
DEJA_DECLAREE = TypeProbleme("deja-declaree", 409, "Dépenses de l'année déjà déclarées")
EJ_DEJA_COUVERTE = TypeProbleme("ej-deja-couverte", 409, "Entité juridique déjà couverte par une candidature")
DESISTEMENT_IMPOSSIBLE = TypeProbleme("desistement-impossible", 409, "Désistement impossible")
CANDIDATURE_DESISTEE = TypeProbleme("candidature-desistee", 409, "Candidature retirée")
CANDIDATURE_NON_DEPOSEE = TypeProbleme("candidature-non-deposee", 409, "Candidature non déposée")
CANDIDATURE_NON_VALIDEE = TypeProbleme("candidature-non-validee", 409, "Candidature non validée")
PROJET_NON_SELECTIONNE = TypeProbleme("projet-non-selectionne", 409, "Projet non sélectionné")
ECHEANCE_DEPASSEE = TypeProbleme("echeance-depassee", 422, "Échéance dépassée")
DISPOSITIF_DIFFERENT = TypeProbleme("dispositif-different", 409, "Autre dispositif attendu")
# Issue 8: a deposit refused until every required piece is there (`pieces`: each missing one by code
# and EJ) and, for a phase-1 GHT support, every GHT criterion met (`criteres`: each failing one by field).
PIECES_MANQUANTES = TypeProbleme("pieces-manquantes", 422, "Pièces justificatives manquantes")
CRITERES_GHT_INVALIDES = TypeProbleme("criteres-ght-invalides", 422, "Critères GHT non remplis")

# --- pieces (issue 8): uploads and downloads of a dossier's documents ---------------------------------
PIECE_TROP_GRANDE = TypeProbleme("piece-trop-grande", 413, "Pièce trop volumineuse")
PIECE_TYPE_REFUSE = TypeProbleme("piece-type-refuse", 415, "Type de fichier refusé")
MULTIPART_ATTENDU = TypeProbleme("multipart-attendu", 415, "Formulaire multipart/form-data attendu")
PLAGE_NON_SATISFIABLE = TypeProbleme("plage-non-satisfiable", 416, "Plage non satisfiable")
DOSSIER_CLOS = TypeProbleme("dossier-clos", 409, "Dossier clos")

# --- workflow (issue 9): states, transitions and targeted corrections (ADR 0013) ----------------------
# A transition the dossier's state does not allow: names the current state and the transition wanted.
TRANSITION_INTERDITE = TypeProbleme("transition-interdite", 409, "Transition interdite dans cet état")
# An answer to a correction touching a field (or a piece type) no open request names.
CHAMP_NON_DEMANDE = TypeProbleme("champ-non-demande", 422, "Champ non demandé par la correction")
# --- collaboration (issue 9 items 3 and 7): messages, assignment, expert opinions ---------------------
AVIS_DEJA_RENDU = TypeProbleme("avis-deja-rendu", 409, "Avis déjà rendu")

# --- financement --------------------------------------------------------------------------------------
PAIEMENT_EN_DOUBLE = TypeProbleme("paiement-en-double", 409, "Paiement en double")
# A simulated decision whose amount financement could not compute (a fact missing, an event it would park).
MONTANT_NON_CALCULABLE = TypeProbleme("montant-non-calculable", 409, "Montant non calculable")

# --- bulk decisions (lots, ADR 0018) ------------------------------------------------------------------
# A dossier of a lot whose decision failed for a reason that is not a refusal (a bug): the lot goes on.
ERREUR_INTERNE = TypeProbleme("erreur-interne", 500, "Erreur interne")

# --- referentiel imports: a whole file refused, one type per hopen_referentiel CodeErreurFichier -------
# (`fichier-` + its value with `-`), looked up with `par_code`.
FICHIER_FORMAT_INVALIDE = TypeProbleme("fichier-format-invalide", 422, "Fichier illisible")
FICHIER_ENTETE_INVALIDE = TypeProbleme("fichier-entete-invalide", 422, "Fichier illisible")
FICHIER_ENCODAGE_INVALIDE = TypeProbleme("fichier-encodage-invalide", 422, "Fichier illisible")
FICHIER_FICHIER_TRONQUE = TypeProbleme("fichier-fichier-tronque", 422, "Fichier illisible")
FICHIER_COLONNES_INVALIDES = TypeProbleme("fichier-colonnes-invalides", 422, "Fichier illisible")
FICHIER_ORDRE_INATTENDU = TypeProbleme("fichier-ordre-inattendu", 422, "Fichier illisible")


CATALOGUE: Mapping[str, TypeProbleme] = MappingProxyType(_CATALOGUE)
"""Code -> problem type, every type the platform answers with."""


def par_code(code: str) -> TypeProbleme:
    """The declared type of `code`, for codes computed from data (the referentiel's file errors).
    An undeclared code is a KeyError: declare it above first."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"type de problème {code!r} absent du catalogue (hopen_common.problemes)") from None


def introuvable(ressource: str, identifiant: str) -> ProblemError:
    # Same answer whether it does not exist or belongs to another scope: no existence leak.
    return INTROUVABLE.erreur(f"{ressource} {identifiant} introuvable")
