from pydantic_settings import SettingsConfigDict

from hopen_common.courriel import ReglagesCourriel
from hopen_common.settings import ServiceSettings


class InstructionSettings(ServiceSettings, ReglagesCourriel):
    model_config = SettingsConfigDict(env_prefix="INSTRUCTION_", extra="ignore")

    service_name: str = "instruction"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen_instruction"

    # Bulk decisions (ADR 0018): financement answers the dry run's amounts; the lot worker polls its
    # queue this often when idle (a new lot wakes it at once in the process that took it).
    financement_url: str = "http://127.0.0.1:8004"
    financement_timeout_secondes: float = 60.0
    lots_actifs: bool = True
    lots_pause_secondes: float = 0.5
    # Deadlines (ADR 0016): "due soon" is within this many days; the scheduler passes this often.
    echeance_jours_proche: int = 7
    rappels_intervalle_secondes: float = 300.0
