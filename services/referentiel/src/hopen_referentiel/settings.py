from pydantic_settings import SettingsConfigDict

from hopen_common.settings import ServiceSettings


class ReferentielSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERENTIEL_", extra="ignore")

    service_name: str = "referentiel"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen_referentiel"
    # The national files (FINESS+, SAE) come as multipart uploads far larger than a piece.
    corps_formulaire_taille_max: int | None = 512 * 1024 * 1024
