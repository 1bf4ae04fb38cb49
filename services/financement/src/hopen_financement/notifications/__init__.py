"""Amounts decided: immutable notifications and their lines, published as FinancementNotifie."""
