from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hopen_common.courriel import ReglagesCourriel
from hopen_common.settings import ServiceSettings
from hopen_instruction.webhooks.rules import CALENDRIER_SPEC


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

    # Webhooks (issue 11, ADR 0026). The consumer storing events and the delivery loop run with the
    # other workers (workers_in_process) when `webhooks_actifs`.
    webhooks_actifs: bool = True
    # Topics the webhook consumer reads; empty: every domain topic (tests give private ones).
    webhooks_topics: list[str] = []
    # Delay before attempt n+1 after n failures (Standard Webhooks' schedule); tests compress it.
    webhooks_calendrier_secondes: list[float] = list(CALENDRIER_SPEC)
    webhooks_gigue: float = 0.1  # ± this fraction of each delay
    webhooks_timeout_secondes: float = 15.0  # an answer within it, or the attempt failed
    webhooks_intervalle_secondes: float = 0.25  # the loop looks for due deliveries this often
    webhooks_concurrence_max: int = 64  # subscriptions delivered to at the same time (one task each)
    # Deliveries of one subscription in flight at once: 1 keeps them in the event order.
    webhooks_concurrence_par_abonnement: int = 1
    # Due deliveries one subscription's task takes (and leases) per transaction from the store. The lease
    # covers sending them all at the timeout (100 at 15 s: ~26 min, how long a crashed worker's taken
    # deliveries wait); 20 measured ~30 % fewer deliveries/s under a backlog (ADR 0026, fourth round).
    webhooks_lot: int = 100
    # Deliveries the consumer may hand over to one subscription's task before the rest goes through the
    # store: at least a consumer lot, so that one lot never overflows on its own (overflowing sends the
    # subscription through the store until it has caught up: ADR 0026). Same lease as a lot's.
    webhooks_main_max: int = 100
    # Events the webhook consumer stores in one transaction (EventConsumer's `lot`): one commit per event
    # held it under 100 events/s (ADR 0026, Performance).
    webhooks_consommateur_lot: int = 100
    webhooks_recouvrement_secondes: float = 24 * 3600.0  # old secret still signs this long after a rotation
    webhooks_desactivation_jours: float = 5.0  # failing this long without a success: disabled
    # Networks a delivery may reach although private/loopback (CIDR): `hopen up` allows 127.0.0.1.
    webhooks_destinations_permises: list[str] = []
    # AES-256-GCM key of the stored secrets (base64 of 32 bytes); empty: development key (refused in
    # production).
    webhooks_cle_secrets: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _webhooks_en_production(self) -> "InstructionSettings":
        if self.environment == "production" and not self.webhooks_cle_secrets.get_secret_value():
            raise ValueError("production needs webhooks_cle_secrets (base64 of 32 bytes, AES-256-GCM)")
        if not self.webhooks_calendrier_secondes:
            raise ValueError("webhooks_calendrier_secondes: at least the first attempt")
        return self
