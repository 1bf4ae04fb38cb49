"""HospiConnect yearly amounts (domain.md 4.2): pure rules over the loaded programme data."""
