"""The store a service's prefixed settings name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from hopen_common.settings import ServiceSettings
from hopen_common.stockage import (
    CleInvalide,
    StockageFichiers,
    StockageS3,
    nouvelle_cle,
    stockage_depuis_reglages,
    stockage_depuis_url,
)
from hopen_common.stockage.base import verifier_cle


class CandidatureSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANDIDATURE_", extra="ignore")
    service_name: str = "candidature"


def test_stockage_reglages_s3_par_prefixe_du_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_URL", "s3://hopen-pieces/candidature")
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_S3_ENDPOINT", "http://127.0.0.1:8333")
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_S3_ACCESS_KEY", "ak")
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_S3_SECRET_KEY", "tres-secret")
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_TAILLE_MAX", "1048576")
    reglages = CandidatureSettings()
    assert reglages.stockage_taille_max == 1024 * 1024
    assert "tres-secret" not in repr(reglages)
    stockage = stockage_depuis_reglages(reglages)
    assert isinstance(stockage, StockageS3)
    assert (stockage.bucket, stockage.prefixe, stockage.endpoint) == (
        "hopen-pieces", "candidature", "http://127.0.0.1:8333")
    assert "tres-secret" not in repr(stockage)


def test_stockage_reglages_fichiers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CANDIDATURE_STOCKAGE_URL", (tmp_path / "pieces").as_uri())
    stockage = stockage_depuis_reglages(CandidatureSettings())
    assert isinstance(stockage, StockageFichiers)
    assert stockage.racine == tmp_path / "pieces"


def test_stockage_reglages_par_defaut_sous_hopen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANDIDATURE_STOCKAGE_URL", raising=False)
    stockage = stockage_depuis_reglages(CandidatureSettings())
    assert isinstance(stockage, StockageFichiers)
    assert stockage.racine.parts[-3:] == (".hopen", "stockage", "candidature")


def test_stockage_reglages_production_exige_une_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDIDATURE_ENVIRONMENT", "production")
    monkeypatch.setenv("CANDIDATURE_JWT_EMETTEURS", '{"https://idp.example": "https://idp.example/jwks"}')
    monkeypatch.setenv("CANDIDATURE_JWT_SECRET", "x" * 40)
    monkeypatch.delenv("CANDIDATURE_STOCKAGE_URL", raising=False)
    with pytest.raises(ValidationError, match="stockage_url"):
        CandidatureSettings()


@pytest.mark.parametrize("url", ["ftp://x/y", "file://hote/chemin", "file:relatif", "s3:///sans-bucket"])
def test_stockage_url_refusee(url: str) -> None:
    with pytest.raises(ValueError, match="URL|scheme"):
        stockage_depuis_url(url)


@pytest.mark.parametrize("cle", ["../etc/passwd", "/abs", "pieces/../x", "Pieces/A", ".cache/x", "a//b",
                                 "pieces/facture finale.pdf", ""])
def test_stockage_cle_refusee(cle: str) -> None:
    with pytest.raises(CleInvalide):
        verifier_cle(cle)


def test_stockage_cle_neuve() -> None:
    a, b = nouvelle_cle(), nouvelle_cle("pieces")
    assert a != b
    assert a.startswith("pieces/")
    assert verifier_cle(a) == a
