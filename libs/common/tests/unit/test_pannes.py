"""The fault matrix's kill switch (ADR 0028): off unless armed, refused in production, and when armed
a SIGKILL at the n-th passage, nothing before."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from hopen_common import pannes


def test_eteint_par_defaut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pannes.VARIABLE, raising=False)
    pannes.armer("test")
    for _ in range(3):
        pannes.point_de_panne("relais-apres-ack")  # still alive


def test_refuse_en_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pannes.VARIABLE, "relais-apres-ack@1")
    with pytest.raises(RuntimeError, match="refused in production"):
        pannes.armer("production")
    pannes.point_de_panne("relais-apres-ack")  # nothing armed by the refused call


@pytest.mark.parametrize("valeur", ["relais-apres-ack", "relais-apres-ack@0", "ailleurs@1", "@3"])
def test_valeur_mal_formee(monkeypatch: pytest.MonkeyPatch, valeur: str) -> None:
    monkeypatch.setenv(pannes.VARIABLE, valeur)
    with pytest.raises(ValueError, match=pannes.VARIABLE):
        pannes.armer("test")


def test_arme_tue_au_n_ieme_passage() -> None:
    code = ("import sys; from hopen_common import pannes; pannes.armer('test')\n"
            "for i in range(5):\n"
            "    print(i, flush=True); pannes.point_de_panne('consommateur-apres-commit')\n")
    fini = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={pannes.VARIABLE: "consommateur-apres-commit@3"})
    assert fini.returncode == -signal.SIGKILL
    assert fini.stdout.split() == ["0", "1", "2"]  # passages 1 and 2 go by, the third kills
