"""Benchmark: every phase-1 and HospiConnect amount of a national-size base, computed by the rules.

    .venv/bin/python bench/bench_financement.py [--etablissements 3000] [--repetitions 5]

A synthetic base (fixed seed): 3 000 establishments with an AC in half journées up to 600 000 and a
staff count up to 15 000; every phase-1 objective (8 forfaits, amorçage and solde each) and every
HospiConnect year (2026-2028: ceiling, rate, amount capped by the declared expenses). The target is
under one second of computation for the whole base. Prints the timings and a checksum of the amounts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import Decimal

from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.forfaits.rules import calculer_forfait_phase1
from hopen_financement.hospiconnect.rules import montant_annuel


def base(n: int, graine: int = 2024) -> list[tuple[Decimal, int, dict[int, list[str]], dict[int, Decimal]]]:
    hasard = random.Random(graine)
    programme = charger_programme_hospiconnect()
    etablissements = []
    for _ in range(n):
        ac = Decimal(hasard.randint(0, 1_200_000)) / 2
        effectifs = hasard.randint(0, 15_000)
        objectifs = {}
        depenses = {}
        for annee in programme.annees:
            possibles = list(programme.objectifs_de(annee))
            objectifs[annee] = hasard.sample(possibles, hasard.randint(0, len(possibles)))
            depenses[annee] = Decimal(hasard.randint(0, 60_000_000)).scaleb(-2)
        etablissements.append((ac, effectifs, objectifs, depenses))
    return etablissements


def calculer_tout(etablissements) -> tuple[int, Decimal]:  # type: ignore[no-untyped-def]
    phase1 = charger_programme_phase1()
    hospiconnect = charger_programme_hospiconnect()
    maximum = max(e[0] for e in etablissements)
    nombre, somme = 0, Decimal(0)
    for ac, effectifs, objectifs, depenses in etablissements:
        for objectif in phase1.objectifs:
            c = calculer_forfait_phase1(ac, objectif, maximum, phase1)
            somme += c.forfait + c.amorcage + c.solde
            nombre += 1
        for annee in hospiconnect.annees:
            h = montant_annuel(effectifs, objectifs[annee], depenses[annee], hospiconnect, annee)
            somme += h.montant
            nombre += 1
    return nombre, somme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--etablissements", type=int, default=3000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    etablissements = base(args.etablissements)
    calculer_tout(etablissements[:10])  # load (and cache) the programme data files outside the timing
    durees = []
    for _ in range(args.repetitions):
        debut = time.perf_counter()
        nombre, somme = calculer_tout(etablissements)
        durees.append(time.perf_counter() - debut)
    phase1 = args.etablissements * len(charger_programme_phase1().objectifs)
    print(f"base: {args.etablissements} établissements; {phase1} forfaits de phase 1"
          f" (forfait, amorçage, solde) + {nombre - phase1} montants HospiConnect annuels"
          f" = {nombre} montants")
    print(f"durée: min {min(durees):.3f} s, médiane {statistics.median(durees):.3f} s,"
          f" max {max(durees):.3f} s sur {args.repetitions} répétitions (objectif < 1 s)")
    print(f"somme de contrôle des montants: {somme}")
    if min(durees) >= 1:
        raise SystemExit("objectif manqué : plus d'une seconde")


if __name__ == "__main__":
    main()
