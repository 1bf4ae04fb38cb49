"""The ARS decision on a candidature (validation or refusal, any dispositif) as financement received
it: what the amounts of a candidature follow when that decision is corrected (ADR 0014)."""
