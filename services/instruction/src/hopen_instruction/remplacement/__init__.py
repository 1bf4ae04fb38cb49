"""Correcting a decision: the chain of decisions that replace one another (ADR 0014)."""
