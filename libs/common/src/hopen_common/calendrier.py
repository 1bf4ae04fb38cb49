"""Programme dates are Europe/Paris calendar dates (domain.md 6)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def aujourd_hui_paris() -> date:
    return datetime.now(PARIS).date()
