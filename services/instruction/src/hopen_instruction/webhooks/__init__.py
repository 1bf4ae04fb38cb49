"""Webhooks and the event feed for the ARS information systems (issue 11, ADR 0026)."""
