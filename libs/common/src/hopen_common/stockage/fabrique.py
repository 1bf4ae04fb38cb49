"""The store a service's settings name: ``stockage_url`` and the ``stockage_s3_*`` fields."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from hopen_common.settings import ServiceSettings
from hopen_common.stockage.base import Stockage
from hopen_common.stockage.fichiers import StockageFichiers
from hopen_common.stockage.s3 import StockageS3


def _dossier_par_defaut(service_name: str) -> Path:
    from hopen_common.devstack.stack import StackError, find_repo_root

    try:
        racine = find_repo_root()
    except StackError:
        racine = Path.cwd()
    return racine / ".hopen" / "stockage" / service_name


def stockage_depuis_url(
    url: str,
    *,
    endpoint: str = "",
    region: str = "us-east-1",
    access_key: str = "",
    secret_key: str = "",
) -> Stockage:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL with a host: {url!r} (use file:///absolute/path)")
        chemin = Path(unquote(parts.path))
        if not chemin.is_absolute():
            raise ValueError(f"file URL needs an absolute path: {url!r}")
        return StockageFichiers(chemin)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"s3 URL without a bucket: {url!r}")
        return StockageS3(
            parts.netloc, parts.path.strip("/"), endpoint=endpoint, region=region,
            access_key=access_key, secret_key=secret_key,
        )
    raise ValueError(f"unsupported stockage_url scheme {parts.scheme!r} (file:// or s3://)")


def stockage_depuis_reglages(settings: ServiceSettings) -> Stockage:
    if not settings.stockage_url:
        return StockageFichiers(_dossier_par_defaut(settings.service_name))
    return stockage_depuis_url(
        settings.stockage_url,
        endpoint=settings.stockage_s3_endpoint,
        region=settings.stockage_s3_region,
        access_key=settings.stockage_s3_access_key,
        secret_key=settings.stockage_s3_secret_key.get_secret_value(),
    )
