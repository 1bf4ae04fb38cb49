"""Kept so existing imports work until the services adopt `hopen_common.monnaie` (ADR 0009)."""

from hopen_common.monnaie import Euros

__all__ = ["Euros"]
