from pydantic_settings import SettingsConfigDict

from hopen_common.courriel import ReglagesCourriel
from hopen_common.settings import ServiceSettings


class InstructionSettings(ServiceSettings, ReglagesCourriel):
    model_config = SettingsConfigDict(env_prefix="INSTRUCTION_", extra="ignore")

    service_name: str = "instruction"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen_instruction"
    # Deadlines (ADR 0016): "due soon" is within this many days; the scheduler passes this often.
    echeance_jours_proche: int = 7
    rappels_intervalle_secondes: float = 300.0
