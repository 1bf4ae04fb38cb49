"""Errors of the financement service that are not business-rule refusals."""

from __future__ import annotations


class DonneeManquante(LookupError):
    """A fact an amount depends on is not known yet (AC, staff, the decision a correction replaces).

    Raised from a consumer handler, it makes the event retried then parked for an operator:
    money is never computed on a guess, and a parked key holds back the aggregate's later events."""
