"""docker-compose.yml stays in step with the native runner: same services, ports, settings
names, databases, commands and Kafka version. No Docker engine runs on our machines, so this
is what keeps the compose file honest."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hopen_common.devstack.stack import DEFAULT_SERVICE_PORTS, SERVICES, StackConfig, find_repo_root

RACINE = Path(find_repo_root())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    contenu: dict[str, Any] = yaml.safe_load((RACINE / "docker-compose.yml").read_text())
    return contenu


def _settings(service: str) -> Any:
    module = importlib.import_module(f"hopen_{service}.settings")
    return getattr(module, f"{service.capitalize()}Settings")


@pytest.mark.parametrize("service", SERVICES)
def test_service_comme_en_natif(compose: dict[str, Any], service: str) -> None:
    definition = compose["services"][service]
    assert definition["build"]["args"]["SERVICE"] == service
    assert definition["build"]["dockerfile"] == "deploy/docker/service.Dockerfile"
    assert definition["ports"] == [f"{DEFAULT_SERVICE_PORTS[service]}:8000"]
    champs = set(_settings(service).model_fields)
    prefixe = f"{service.upper()}_"
    for nom in definition["environment"]:
        assert nom.startswith(prefixe), nom
        assert nom.removeprefix(prefixe).lower() in champs, f"{nom}: no such setting"
    base = definition["environment"][f"{prefixe}DATABASE_URL"]
    assert base.endswith("/" + StackConfig(root=RACINE, data_dir=RACINE / ".hopen").database_name(service))
    assert definition["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_bases_creees(compose: dict[str, Any]) -> None:
    sql = (RACINE / "deploy" / "postgres" / "init-databases.sql").read_text()
    assert set(re.findall(r"CREATE DATABASE (\w+) OWNER hopen", sql)) == {f"hopen_{s}" for s in SERVICES}


def test_memes_commandes(compose: dict[str, Any]) -> None:
    dockerfile = (RACINE / "deploy" / "docker" / "service.Dockerfile").read_text()
    assert "alembic upgrade head" in dockerfile
    assert "uvicorn hopen_${SERVICE}.main:create_app --factory" in dockerfile
    referentiel = " ".join(compose["services"]["referentiel"]["command"])
    assert "python -m hopen_referentiel.seed_demo" in referentiel  # as `hopen up`'s seed step
    assert compose["services"]["topics"]["command"][:2] == ["hopen", "topics"]


def test_meme_version_de_kafka(compose: dict[str, Any]) -> None:
    pom = (RACINE / "deploy" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version is not None
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version.group(1)}"
