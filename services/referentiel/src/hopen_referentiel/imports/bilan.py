"""Counting and collecting what a parser yields.

The parsers are generators (memory stays flat); `Bilan.suivre` counts on the way without keeping
anything, `collecter` keeps everything for small files and tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from hopen_referentiel.imports.rejets import Avertissement, Rejet

T = TypeVar("T")


@dataclass
class Bilan:
    enregistrements: Counter[str] = field(default_factory=Counter)  # record type name -> count
    rejets: Counter[str] = field(default_factory=Counter)  # CodeRejet value -> count
    avertissements: Counter[str] = field(default_factory=Counter)

    def noter(self, element: object) -> None:
        if isinstance(element, Rejet):
            self.rejets[element.code.value] += 1
        elif isinstance(element, Avertissement):
            self.avertissements[element.code.value] += 1
        else:
            self.enregistrements[type(element).__name__] += 1

    def suivre(self, elements: Iterable[T]) -> Iterator[T]:
        for element in elements:
            self.noter(element)
            yield element

    @property
    def total_enregistrements(self) -> int:
        return sum(self.enregistrements.values())

    @property
    def total_rejets(self) -> int:
        return sum(self.rejets.values())


@dataclass
class Collecte:
    """Everything a parser yielded, split by kind (for small files and tests)."""

    enregistrements: list[object] = field(default_factory=list)
    rejets: list[Rejet] = field(default_factory=list)
    avertissements: list[Avertissement] = field(default_factory=list)

    def de_type(self, type_: type[T]) -> list[T]:
        return [e for e in self.enregistrements if isinstance(e, type_)]


def collecter(elements: Iterable[object]) -> Collecte:
    collecte = Collecte()
    for element in elements:
        if isinstance(element, Rejet):
            collecte.rejets.append(element)
        elif isinstance(element, Avertissement):
            collecte.avertissements.append(element)
        else:
            collecte.enregistrements.append(element)
    return collecte
