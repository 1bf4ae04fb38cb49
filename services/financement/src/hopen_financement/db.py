"""The one declarative base of the financement service (each slice declares its tables on it)."""

from __future__ import annotations

from sqlalchemy import Numeric
from sqlalchemy.orm import DeclarativeBase

from hopen_common.db import new_metadata

# Euros with cents: NUMERIC(14, 2), never float (up to 999 999 999 999.99 EUR).
Montant = Numeric(14, 2)
# Activite combinee: multiples of 0.5 journee, kept exact.
Activite = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = new_metadata()
