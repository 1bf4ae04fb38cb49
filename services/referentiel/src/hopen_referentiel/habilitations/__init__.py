"""Habilitations: what each person may do on the platform (issue 10, ADR 0022)."""
