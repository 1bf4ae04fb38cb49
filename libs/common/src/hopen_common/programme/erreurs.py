"""The one domain error every service raises when a business rule refuses an input.

It subclasses ValueError so pure code stays framework-free; the API layer
(`hopen_common.errors`) turns it into a 422 problem+json naming `champ`.
"""

from __future__ import annotations


class RegleMetierError(ValueError):
    """A business rule refused an input; `champ` names the offending field (or None)."""

    def __init__(self, message: str, champ: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.champ = champ

    def __reduce__(self) -> tuple[type[RegleMetierError], tuple[str, str | None]]:
        # Keeps champ across pickling (process pools, task queues).
        return (type(self), (self.message, self.champ))
