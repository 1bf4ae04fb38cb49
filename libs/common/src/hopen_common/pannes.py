"""Fault points for the fault matrix (issue 12 point 5, ADR 0028): a worker SIGKILLs itself at an
exact place of its loop, e.g. after the broker acknowledged an outbox row and before the row is
marked sent, which no outside `kill -9` can hit reliably.

Off unless the worker is started with ``HOPEN_POINT_DE_PANNE=<point>@<n>`` (die at the n-th passage
through `<point>`), and refused in production: `armer` raises at startup when the variable is set
there, so a production process can never carry one.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "HOPEN_POINT_DE_PANNE"
# Where a worker may be told to die: each is one call of `point_de_panne` in the code.
POINTS = frozenset({
    "relais-apres-ack",  # outbox relay: the broker acked the row, sent_at not written yet
    "consommateur-apres-commit",  # consumer: effect and inbox row committed, offset not committed yet
})

_arme: dict[str, int] = {}  # point -> passages left before SIGKILL


def armer(environment: str) -> None:
    """Read the variable once, at a worker's start; a production worker with it set does not start."""
    _arme.clear()
    valeur = os.environ.get(VARIABLE, "")
    if not valeur:
        return
    if environment == "production":
        raise RuntimeError(f"{VARIABLE} is a test switch: refused in production")
    point, _, n = valeur.partition("@")
    if point not in POINTS or not n.isdigit() or int(n) < 1:
        raise ValueError(f"{VARIABLE}={valeur!r}: expected <point>@<n>, point one of {sorted(POINTS)}")
    _arme[point] = int(n)


def point_de_panne(point: str) -> None:
    """A place a test may choose to die at; nothing when unarmed (the production case)."""
    if point not in _arme:
        return
    _arme[point] -= 1
    if _arme[point] <= 0:
        # SIGKILL, not an exception: no finally, no flush, no offset commit on the way out.
        os.kill(os.getpid(), signal.SIGKILL)
