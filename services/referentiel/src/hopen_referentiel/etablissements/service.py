"""Recompute fiches from the stored facts and publish the ones that changed.

Called at the end of every load (demo seed, imports) in the load's transaction, so that
facts, fiches and their events commit together (outbox). An import passes the EJ its changes
touched; only their fiches are recomputed (a national FINESS file re-imported unchanged touches
none, so it computes and publishes nothing).

The API detail and the event payload are built here as plain JSON-ready dicts rather than
through Pydantic: a first national import writes 275 000 fiches and publishes the ones in the
programme's perimeter, and model construction would cost seconds. Tests check that every dict
validates against `FicheLue`, `EtablissementPublie` and `Evenement`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import EtablissementPublie, Topics
from hopen_common.events import enveloppe
from hopen_common.outbox import publier_lot
from hopen_referentiel.etablissements import donnees, repository
from hopen_referentiel.etablissements.fiches import (
    CAMPAGNE_PHASE1,
    CAMPAGNE_PHASE2,
    Fiche,
    Tables,
    VueDispositif,
    calculer_fiches,
)
from hopen_referentiel.etablissements.rules import Dispositif, ResultatRegle

SOURCE = "/hopen/referentiel"
_CAMPAGNES = {
    Dispositif.PHASE1: CAMPAGNE_PHASE1,
    Dispositif.HOSPICONNECT: CAMPAGNE_PHASE2,
    Dispositif.AAP: CAMPAGNE_PHASE1,
}


def tables_du_programme() -> Tables:
    return Tables(
        secteurs=donnees.table_secteurs(),
        geo=donnees.table_geographique(),
        criteres_phase1=donnees.criteres_phase1(),
        categories_dialyse=donnees.categories_dialyse(),
        exceptions_pmsi=donnees.exceptions_finess_pmsi(),
        categories_sanitaires=frozenset(donnees.table_agregats()),
    )


def _decimal(valeur: Decimal | None) -> str | None:
    return None if valeur is None else str(valeur)


@lru_cache(maxsize=1 << 16)
def _regle(r: ResultatRegle) -> dict[str, str]:
    # Shared, never mutated: the encoder only reads it. The rule's label is not stored with
    # each fiche (it is the code's, LIBELLES_REGLES): `FicheLue` puts it back when read.
    return {"code": r.code, "detail": r.detail}


def _regles(resultats: tuple[ResultatRegle, ...]) -> list[dict[str, str]]:
    return [_regle(r) for r in resultats]


def _dispositif(dispositif: Dispositif, vue: VueDispositif) -> dict[str, Any]:
    maille = vue.maille
    return {
        "eligible": vue.eligible,
        "finess_pmsi": vue.finess_pmsi,
        "niveau_pmsi": vue.niveau_pmsi,
        "maille": (
            {"type": maille.type, "finess": maille.finess, "ght": maille.ght_code} if maille else None
        ),
        "activite_combinee": _decimal(vue.activite_combinee),
        "campagne_activite": _CAMPAGNES[dispositif],
        "regles_satisfaites": _regles(vue.verdict.satisfaites),
        "regles_non_satisfaites": _regles(vue.verdict.non_satisfaites),
        "eligible_via": vue.eligible_via,
    }


def detail(fiche: Fiche) -> dict[str, Any]:
    """What `GET /v1/etablissements/{finess}` shows (the shape of `FicheLue`), JSON-ready."""
    return {
        "finess": fiche.finess,
        "niveau": fiche.niveau,
        "raison_sociale": fiche.raison_sociale,
        "finess_ej": fiche.finess_ej,
        "etablissements": list(fiche.liens) if fiche.niveau == "EJ" else [],
        "departement": fiche.departement,
        "region": fiche.region,
        "secteur": fiche.secteur,
        "statut_juridique": fiche.statut_juridique,
        "categorie": fiche.categorie,
        "agregat_categorie": fiche.agregat_categorie,
        "ght": (
            {"code": fiche.ght_code, "role": fiche.ght_role, "support": fiche.ght_support}
            if fiche.ght_code and fiche.ght_role
            else None
        ),
        "activite_combinee": _decimal(fiche.activite_combinee),
        "activite_combinee_2024": _decimal(fiche.dispositifs[Dispositif.HOSPICONNECT].activite_combinee),
        "effectifs": fiche.effectifs,
        "domaines_sun_es": list(fiche.domaines_sun_es),
        "ferme": fiche.ferme,
        "ghu": fiche.ghu,
        "dans_le_perimetre": fiche.dans_le_perimetre,
        "dispositifs": {d: _dispositif(d, vue) for d, vue in fiche.dispositifs.items()},
    }


def payload(fiche: Fiche) -> dict[str, Any]:
    """The EtablissementPublie of a fiche in the programme's perimeter, JSON-ready."""
    hc = fiche.dispositifs[Dispositif.HOSPICONNECT]
    aap = fiche.dispositifs[Dispositif.AAP]
    return {
        "finess": fiche.finess,
        "finess_ej": fiche.finess_ej,
        "raison_sociale": fiche.raison_sociale,
        "region": fiche.region,
        "departement": fiche.departement,
        "secteur": fiche.secteur.value if fiche.secteur else None,
        "categorie": fiche.categorie,
        "niveau": fiche.niveau.value,
        "ght_code": fiche.ght_code,
        "ght_role": fiche.ght_role.value if fiche.ght_role else None,
        # An EJ whose EG each have their own FINESS PMSI (private) keeps its own number here,
        # as before the per-dispositif fields existed.
        "finess_pmsi": fiche.finess_pmsi or fiche.finess_ej,
        "activite_combinee": _decimal(fiche.activite_combinee),
        "eligible_phase1": fiche.eligible_phase1,
        "maille_phase1": fiche.maille_phase1,
        "domaines_sun_es": list(fiche.domaines_sun_es),
        "ferme": fiche.ferme,
        "effectifs": fiche.effectifs,
        "finess_pmsi_phase2": hc.finess_pmsi,
        "activite_combinee_2024": _decimal(hc.activite_combinee),
        "eligible_hospiconnect": hc.eligible,
        "maille_hospiconnect": hc.maille.finess if hc.maille else None,
        "eligible_aap": aap.eligible,
        "maille_aap": aap.maille.finess if aap.maille else None,
    }


_ENCODEUR = msgspec.json.Encoder(decimal_format="string")


def canonique(valeur: Any) -> str:
    """Compact JSON; key order is the builders' (fixed by the code), so the text is a stable
    fingerprint. msgspec encodes ~10x faster than json for the 100 000s of fiches of an import."""
    return _ENCODEUR.encode(valeur).decode()


@dataclass(frozen=True)
class RapportPublication:
    fiches: int
    creees: int
    modifiees: int
    inchangees: int
    publiees: int
    retirees: int = 0  # fiches of EJ that left the perimeter

    def __add__(self, autre: RapportPublication) -> RapportPublication:
        return RapportPublication(
            self.fiches + autre.fiches, self.creees + autre.creees, self.modifiees + autre.modifiees,
            self.inchangees + autre.inchangees, self.publiees + autre.publiees,
            self.retirees + autre.retirees,
        )

    def en_dict(self) -> dict[str, int]:
        return {
            "calculees": self.fiches, "creees": self.creees, "modifiees": self.modifiees,
            "inchangees": self.inchangees, "retirees": self.retirees, "evenements": self.publiees,
        }


TAILLE_TRANCHE = 5000


async def recalculer_et_publier(
    session: AsyncSession,
    maintenant: datetime,
    tables: Tables | None = None,
    *,
    entites: Collection[str] | None = None,
    touchees: bool = False,
) -> RapportPublication:
    """Derive the fiches of `entites` (FINESS EJ; None: every EJ; `touchees`: those an import
    marked, see importations.repository.preparer_touchees) again, by slices of EJ so that memory
    stays flat; write only those that changed and publish them. EJ outside the programme's
    perimeter get no stored fiche (a stale one is removed)."""
    if entites is not None and not entites:
        return RapportPublication(0, 0, 0, 0, 0)
    tables = tables or tables_du_programme()
    perimetre = await repository.entites_du_perimetre(
        session, entites, sorted(tables.secteurs), sorted(tables.categories_sanitaires), touchees=touchees
    )
    retirees = await repository.retirer_fiches_hors_perimetre(session, entites, perimetre, touchees=touchees)
    total = RapportPublication(0, 0, 0, 0, 0, retirees)
    for debut in range(0, len(perimetre), TAILLE_TRANCHE):
        tranche = perimetre[debut : debut + TAILLE_TRANCHE]
        parc = await repository.charger_parc(session, tranche)
        fiches = calculer_fiches(parc, tables, hors_perimetre=False)
        connues = await repository.empreintes(session, tranche)
        rapport = await _ecrire(session, fiches, connues, maintenant)
        absentes = set(connues).difference(f.finess for f in fiches)
        await repository.retirer_fiches(session, absentes)
        total = total + rapport
    return total


async def fiche_a_la_demande(session: AsyncSession, finess: str) -> dict[str, Any] | None:
    """The fiche of a FINESS outside the perimeter (no stored fiche): computed from its facts by
    the same rules, when asked for."""
    finess_ej = await repository.ej_du_finess(session, finess)
    if finess_ej is None:
        return None
    parc = await repository.charger_parc(session, [finess_ej])
    for fiche in calculer_fiches(parc, tables_du_programme()):
        if fiche.finess == finess:
            return detail(fiche)
    return None


async def _ecrire(
    session: AsyncSession, fiches: Iterable[Fiche], connues: dict[str, str], maintenant: datetime
) -> RapportPublication:
    lignes: list[tuple[Any, ...]] = []
    evenements: list[tuple[str, str, str]] = []
    total = creees = modifiees = 0
    for fiche in fiches:
        total += 1
        texte = canonique(detail(fiche))
        empreinte = hashlib.sha256(texte.encode()).hexdigest()
        avant = connues.get(fiche.finess)
        if avant == empreinte:
            continue
        creees += avant is None
        modifiees += avant is not None
        hc, aap = fiche.dispositifs[Dispositif.HOSPICONNECT], fiche.dispositifs[Dispositif.AAP]
        lignes.append((
            fiche.finess, fiche.niveau.value, fiche.finess_ej, fiche.raison_sociale, fiche.departement,
            fiche.region, fiche.secteur.value if fiche.secteur else None, fiche.categorie, fiche.ght_code,
            fiche.finess_pmsi, fiche.activite_combinee, fiche.eligible_phase1, hc.eligible, aap.eligible,
            fiche.ferme, texte, empreinte, maintenant,
        ))
        if fiche.dans_le_perimetre:
            identifiant = str(uuid.uuid4())
            env = enveloppe(EtablissementPublie, payload(fiche), source=SOURCE,
                            subject=f"etablissement/{fiche.finess}", time=maintenant, identifiant=identifiant)
            evenements.append((fiche.finess, identifiant, canonique(env)))
    await repository.enregistrer_fiches(session, lignes)
    await publier_lot(session, Topics.ETABLISSEMENT, evenements)
    return RapportPublication(total, creees, modifiees, total - creees - modifiees, len(evenements))
