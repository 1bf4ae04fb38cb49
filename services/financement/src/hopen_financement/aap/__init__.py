"""Appel a projets/HOP'EN 2: amount granted, its two halves, and the regional envelope (domain.md 5)."""
