from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hopen_common.db.copie_locale import CopieLocale
from hopen_financement.db import Activite, Base


class EtablissementConnu(CopieLocale, Base):
    """Local copy of the referentiel, fed by EtablissementPublie (state transfer: last one wins).

    Column names are the payload's field names: the consumer copies the payload as is."""

    __tablename__ = "etablissement_connu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Activite)  # AC 2022 of its FINESS PMSI
    eligible_phase1: Mapped[bool] = mapped_column(Boolean)
    effectifs: Mapped[int | None] = mapped_column(Integer)  # HospiConnect staff (domain.md 2.4)
    # Phase 1: the FINESS the activity and the funding attach to, and who applies for it (ADR 0008).
    # None: a row copied before financement kept them (until the referentiel publishes it again).
    finess_pmsi: Mapped[str | None] = mapped_column(String(9))
    maille_phase1: Mapped[str | None] = mapped_column(String(9))
