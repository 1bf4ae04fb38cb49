"""Recompute every fiche from the stored facts and publish the ones that changed.

Called at the end of every load (demo seed, imports) in the load's transaction, so that
facts, fiches and their events commit together (outbox).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import EtablissementPublie, Topics
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier_lot
from hopen_referentiel.etablissements import donnees, repository
from hopen_referentiel.etablissements.fiches import Fiche, Tables, calculer_fiches
from hopen_referentiel.etablissements.rules import ResultatRegle
from hopen_referentiel.etablissements.schemas import DispositifLu, FicheLue, GhtLu, MailleLue, RegleLue

SOURCE = "/hopen/referentiel"


def tables_du_programme() -> Tables:
    return Tables(
        secteurs=donnees.table_secteurs(),
        geo=donnees.table_geographique(),
        criteres_phase1=donnees.criteres_phase1(),
        categories_dialyse=donnees.categories_dialyse(),
        exceptions_pmsi=donnees.exceptions_finess_pmsi(),
    )


def _regles(resultats: tuple[ResultatRegle, ...]) -> list[RegleLue]:
    return [RegleLue(code=r.code.value, libelle=r.libelle, detail=r.detail) for r in resultats]


def fiche_lue(fiche: Fiche) -> FicheLue:
    verdict = fiche.eligibilite_phase1
    return FicheLue(
        finess=fiche.finess,
        niveau=fiche.niveau.value,
        raison_sociale=fiche.raison_sociale,
        finess_ej=fiche.finess_ej,
        etablissements=list(fiche.liens) if fiche.niveau.value == "EJ" else [],
        departement=fiche.departement,
        region=fiche.region,
        secteur=fiche.secteur.value,
        statut_juridique=fiche.statut_juridique,
        categorie=fiche.categorie,
        agregat_categorie=fiche.agregat_categorie,
        ght=GhtLu(code=fiche.ght_code, role=fiche.ght_role.value)
        if fiche.ght_code and fiche.ght_role
        else None,
        activite_combinee=fiche.activite_combinee,
        effectifs=fiche.effectifs,
        domaines_sun_es=list(fiche.domaines_sun_es),
        ferme=fiche.ferme,
        dispositifs={
            "phase1": DispositifLu(
                eligible=verdict.eligible,
                finess_pmsi=fiche.finess_pmsi,
                niveau_pmsi=fiche.niveau_pmsi.value,
                maille=(
                    MailleLue(type=fiche.type_maille_phase1.value, finess=fiche.maille_phase1)
                    if fiche.maille_phase1 and fiche.type_maille_phase1
                    else None
                ),
                regles_satisfaites=_regles(verdict.satisfaites),
                regles_non_satisfaites=_regles(verdict.non_satisfaites),
                eligible_via=fiche.eligible_via,
            )
        },
    )


def payload(fiche: Fiche) -> EtablissementPublie:
    return EtablissementPublie(
        finess=fiche.finess,
        finess_ej=fiche.finess_ej,
        raison_sociale=fiche.raison_sociale,
        region=fiche.region,
        departement=fiche.departement,
        secteur=fiche.secteur.value,
        categorie=fiche.categorie,
        niveau=fiche.niveau.value,
        ght_code=fiche.ght_code,
        ght_role=fiche.ght_role.value if fiche.ght_role else None,
        finess_pmsi=fiche.finess_pmsi,
        activite_combinee=fiche.activite_combinee,
        eligible_phase1=fiche.eligible_phase1,
        maille_phase1=fiche.maille_phase1,
        domaines_sun_es=list(fiche.domaines_sun_es),
        ferme=fiche.ferme,
        effectifs=fiche.effectifs,
    )


def empreinte(p: EtablissementPublie) -> str:
    return hashlib.sha256(json.dumps(p.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RapportPublication:
    fiches: int
    creees: int
    modifiees: int
    inchangees: int

    @property
    def publiees(self) -> int:
        return self.creees + self.modifiees


async def recalculer_et_publier(
    session: AsyncSession, maintenant: datetime, tables: Tables | None = None
) -> RapportPublication:
    """Derive every fiche again; write and publish only what changed (an unchanged re-load
    writes nothing and publishes nothing)."""
    parc = await repository.charger_parc(session)
    fiches = calculer_fiches(parc, tables or tables_du_programme())
    connues = await repository.empreintes(session)
    lignes: list[dict[str, Any]] = []
    evenements = []
    creees = modifiees = 0
    for fiche in fiches:
        p = payload(fiche)
        e = empreinte(p)
        detail = fiche_lue(fiche).model_dump(mode="json")
        avant = connues.get(fiche.finess)
        if avant is not None and avant == (e, detail):
            continue
        lignes.append(
            {
                "finess": fiche.finess,
                "niveau": fiche.niveau.value,
                "finess_ej": fiche.finess_ej,
                "raison_sociale": fiche.raison_sociale,
                "departement": fiche.departement,
                "region": fiche.region,
                "secteur": fiche.secteur.value,
                "categorie": fiche.categorie,
                "ght_code": fiche.ght_code,
                "finess_pmsi": fiche.finess_pmsi,
                "activite_combinee": fiche.activite_combinee,
                "eligible_phase1": fiche.eligible_phase1,
                "ferme": fiche.ferme,
                "detail": detail,
                "empreinte": e,
                "calcule_le": maintenant,
            }
        )
        if avant is None or avant[0] != e:
            creees += avant is None
            modifiees += avant is not None
            evenements.append(
                (fiche.finess, nouvel_evenement(p, source=SOURCE, subject=f"etablissement/{fiche.finess}"))
            )
    await repository.enregistrer_fiches(session, lignes)
    await publier_lot(session, Topics.ETABLISSEMENT, evenements)
    await session.flush()
    return RapportPublication(len(fiches), creees, modifiees, len(fiches) - creees - modifiees)
