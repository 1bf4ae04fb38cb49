"""Programme dates are Europe/Paris calendar dates (domain.md 6)."""

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BeforeValidator

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


def _texte_iso(valeur: object) -> object:
    """JSON has no date type: an instant is an RFC 3339 string. A number (seconds since 1970?
    milliseconds?) is refused rather than guessed (issue 12: unknown input is rejected)."""
    if not isinstance(valeur, str | datetime):
        raise ValueError("an RFC 3339 date-time string is expected, e.g. 2026-12-01T10:00:00Z")
    return valeur


# An instant given by a client, with its offset (a naive time is refused: whose midnight?).
InstantEntrant = Annotated[AwareDatetime, BeforeValidator(_texte_iso)]
