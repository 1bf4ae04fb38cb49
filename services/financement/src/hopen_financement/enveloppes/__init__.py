"""Regional envelope ledger (domain.md 5): allocated, engaged, consumed, available per region."""
