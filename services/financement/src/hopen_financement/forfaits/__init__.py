"""Phase-1 forfaits (domain.md 3.4): pure rules over the loaded programme data."""
