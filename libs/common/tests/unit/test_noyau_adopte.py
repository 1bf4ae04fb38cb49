"""ADR 0009: no service keeps a second copy of the shared kernel's rules (issue 7, item 6).

A text scan, on purpose: a copy is recognised by what it writes (a local CENTIME, a FINESS
or region pattern, a problem typed by hand, a scope test on the principal), whatever it is named.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RACINE = Path(__file__).resolve().parents[4]

ADOPTES = ["candidature", "financement", "instruction", "referentiel", "reporting"]

COPIES = {
    "CENTIME local (hopen_common.monnaie.CENTIME)": r"\bCENTIME\s*=",
    "arrondi local (hopen_common.monnaie.arrondi_centime)": r"ROUND_HALF_UP",
    "motif FINESS (hopen_common.finess.Finess)": r"\[0-9AB\]|\[0-9\]\{7\}",
    "motif de région (hopen_common.region.CodeRegion)": r"\[0-9\]\{2\}",
    "problème tapé à la main (hopen_common.problemes)": r"\bProblemError\(",
    "portée à la main (hopen_common.auth.portee)":
        r"\.voit_(region|finess)\(|def (filtre_liste|exiger_ressource)\b",
    "montants (hopen_common.monnaie)": r"hopen_common\.montants",
    "liste restreinte à la main (hopen_common.auth.portee.restreindre)":
        r"\.where\([^)]*principal\.(region|finess)\b|principal\.region if principal\.role",
}


@pytest.mark.parametrize("service", ADOPTES)
def test_aucune_seconde_copie_du_noyau(service: str) -> None:
    sources = RACINE / "services" / service / "src"
    assert sources.is_dir(), sources
    copies = [
        f"{fichier.relative_to(RACINE)}:{n}: {quoi}: {ligne.strip()}"
        for fichier in sorted(sources.rglob("*.py"))
        for n, ligne in enumerate(fichier.read_text(encoding="utf-8").splitlines(), 1)
        for quoi, motif in COPIES.items()
        if re.search(motif, ligne)
    ]
    assert copies == []
