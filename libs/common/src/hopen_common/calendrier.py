"""Programme dates are Europe/Paris calendar dates (domain.md 6)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def aujourd_hui_paris() -> date:
    return datetime.now(PARIS).date()


def date_paris(instant: datetime) -> date:
    """The Europe/Paris calendar date of an aware instant (a deposit at 23:30 UTC is the next day)."""
    return instant.astimezone(PARIS).date()


def aujourd_hui(date_du_jour: date | None = None) -> date:
    """Today in Paris, unless the settings pin it (`date_du_jour`: tests and demos move time with it;
    refused in production by the settings)."""
    return date_du_jour or aujourd_hui_paris()
