"""Simulators for the front end: phase-1 forfaits and HospiConnect yearly amounts, nothing stored."""
