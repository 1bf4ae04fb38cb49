from hopen_common.outbox.relay import OutboxRelay
from hopen_common.outbox.writer import publier

__all__ = ["OutboxRelay", "publier"]
