"""Programme documents (objectives, targets, tariffs, calendars, envelopes) and their versions.

A version is never edited: the DNS publishes a new one, which becomes current, is journaled
(who, when, why) and is published as `ProgrammePublie` so that the other services keep local
copies. The versions shipped with the code are seeded by migration 0002 from the data files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts import ProgrammePublie, Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.programme import RegleMetierError
from hopen_common.programme import aap as programme_aap
from hopen_common.programme import hospiconnect as programme_hospiconnect
from hopen_common.programme import phase1 as programme_phase1
from hopen_common.programme import pieces as programme_pieces
from hopen_referentiel.models import VersionProgramme

SOURCE = "/hopen/referentiel"
_VERSION = re.compile(r"^\d{4}(\.\d+)+$")
_DOCUMENT = re.compile(r"^[a-z][a-z0-9_]{1,49}$")

# Documents whose structure the shared library knows: a new version must load with it (the checks
# of the loaders every service uses).
_VALIDATEURS: Mapping[str, Callable[[Mapping[str, Any]], object]] = {
    "phase1": programme_phase1._construire,
    "hospiconnect": programme_hospiconnect._construire,
    "aap": programme_aap.construire_programme_aap,
    "enveloppes_aap": programme_aap.construire_enveloppes_aap,
    "pieces": programme_pieces.construire_programme_pieces,
}


def documents_livres(paires: Iterable[tuple[str, str]]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(document, version, content, source file) of each (document, version) pair asked for, read from
    the programme files shipped in hopen_common, the very files every service loads. The pairs are
    explicit so that a seed never changes when a later version file is shipped; an absent one is an
    error, never a silently smaller seed."""
    return [(document, version, programme_phase1.lire_donnees(document, version),
             f"hopen_common/programme/data/{document}_v{version}.json") for document, version in paires]


def empreinte(contenu: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(contenu, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cle_version(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


async def versions(session: AsyncSession, document: str | None = None) -> list[VersionProgramme]:
    query = select(VersionProgramme)
    if document is not None:
        query = query.where(VersionProgramme.document == document)
    lignes = list(await session.scalars(query))
    return sorted(lignes, key=lambda v: (v.document, cle_version(v.version)))


async def courante(session: AsyncSession, document: str) -> VersionProgramme | None:
    toutes = await versions(session, document)
    return toutes[-1] if toutes else None


def _sans_flottant(valeur: Any, ou: str) -> None:
    # Programme numbers are decimal strings: a JSON float would already have lost exactness.
    if isinstance(valeur, float | Decimal) and not isinstance(valeur, bool):
        raise RegleMetierError(f"{ou} : nombre {valeur} a ecrire en chaine decimale", "contenu")
    if isinstance(valeur, dict):
        for cle, v in valeur.items():
            _sans_flottant(v, f"{ou}.{cle}")
    elif isinstance(valeur, list):
        for rang, v in enumerate(valeur):
            _sans_flottant(v, f"{ou}[{rang}]")


async def publier_version(
    session: AsyncSession, document: str, version: str, contenu: dict[str, Any], motivation: str,
    principal: Principal, maintenant: datetime,
) -> VersionProgramme:
    if not _DOCUMENT.fullmatch(document):
        raise RegleMetierError(f"nom de document {document!r} invalide (minuscules, chiffres, _)", "document")
    if not _VERSION.fullmatch(version):
        raise RegleMetierError(f"version {version!r} invalide (AAAA.N attendu, ex. 2026.2)", "version")
    if contenu.get("version") != version:
        raise RegleMetierError(
            f"le contenu declare la version {contenu.get('version')!r}, pas {version!r}", "contenu.version")
    if not motivation.strip():
        raise RegleMetierError("la motivation de la publication est obligatoire", "motivation")
    _sans_flottant(contenu, "contenu")
    actuelle = await courante(session, document)
    if actuelle is not None and cle_version(version) <= cle_version(actuelle.version):
        raise RegleMetierError(
            f"{document} : la version {version} n'est pas posterieure a la version courante "
            f"{actuelle.version} (une version publiee ne se modifie pas)", "version")
    validateur = _VALIDATEURS.get(document)
    if validateur is not None:
        try:
            validateur(json.loads(json.dumps(contenu), parse_float=Decimal))
        except (ValueError, KeyError, TypeError) as exc:
            raise RegleMetierError(f"{document} {version} : contenu invalide : {exc}", "contenu") from exc
    ligne = VersionProgramme(document=document, version=version, contenu=contenu,
                             empreinte=empreinte(contenu), publie_par=principal.subject, publie_le=maintenant,
                             motivation=motivation, source=f"api:{principal.subject}")
    session.add(ligne)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role.value, action="programme_publie",
                             objet_type="programme", objet_id=f"{document}/{version}", motivation=motivation,
                             details={"empreinte": ligne.empreinte,
                                      "precedente": actuelle.version if actuelle else None}))
    evenement = nouvel_evenement(
        ProgrammePublie(document=document, version=version, empreinte=ligne.empreinte,
                        publie_par=principal.subject, publie_le=maintenant, motivation=motivation,
                        contenu=contenu),
        source=SOURCE, subject=f"programme/{document}/{version}",
    )
    await publier(session, Topics.PROGRAMME, document, evenement)
    await session.flush()
    return ligne
