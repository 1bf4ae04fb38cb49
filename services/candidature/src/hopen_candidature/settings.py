from pydantic_settings import SettingsConfigDict

from hopen_common.courriel import ReglagesCourriel
from hopen_common.settings import ServiceSettings


class CandidatureSettings(ServiceSettings, ReglagesCourriel):
    model_config = SettingsConfigDict(env_prefix="CANDIDATURE_", extra="ignore")

    service_name: str = "candidature"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen_candidature"
    # The worker process collects orphan pieces (ADR 0011) this often; 0: only on demand, through
    # POST /v1/operations/pieces/orphelins.
    stockage_orphelins_intervalle_heures: float = 6.0
    # The draft-deadline reminder scheduler passes this often (ADR 0016).
    rappels_intervalle_secondes: float = 300.0
