"""The five services in process on databases of their own, for the tests that call several services
(tests/securite), through the plugin's `services` fixture: `services.client(nom)` opens a client of
that service's app, lifespan included, on its real database and the real broker;
`services.moteur(nom)` is its database, to seed and count rows, created the first time it is asked
for (one migration per service per session, only for the services used)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.testing.api import client_api, reglages_de_test


def _fabrique(nom: str) -> tuple[Any, type[Any]]:
    from hopen_candidature.main import create_app as candidature
    from hopen_candidature.settings import CandidatureSettings
    from hopen_financement.main import create_app as financement
    from hopen_financement.settings import FinancementSettings
    from hopen_instruction.main import create_app as instruction
    from hopen_instruction.settings import InstructionSettings
    from hopen_referentiel.main import create_app as referentiel
    from hopen_referentiel.settings import ReferentielSettings
    from hopen_reporting.main import create_app as reporting
    from hopen_reporting.settings import ReportingSettings

    return {"referentiel": (referentiel, ReferentielSettings),
            "candidature": (candidature, CandidatureSettings),
            "instruction": (instruction, InstructionSettings),
            "financement": (financement, FinancementSettings),
            "reporting": (reporting, ReportingSettings)}[nom]


@dataclass
class Services:
    base: Callable[[str], str]
    kafka_bootstrap: str
    stockage_url: str
    moteurs: dict[str, AsyncEngine] = field(default_factory=dict)

    def moteur(self, nom: str) -> AsyncEngine:
        if nom not in self.moteurs:
            self.moteurs[nom] = create_async_engine(self.base(nom))
        return self.moteurs[nom]

    def client(self, nom: str, **reglages: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        create_app, classe = _fabrique(nom)
        settings = reglages_de_test(classe, self.moteur(nom), self.kafka_bootstrap, calendrier_ouvert=True,
                                    stockage_url=self.stockage_url, **reglages)
        return client_api(create_app(settings), f"http://{nom}")
