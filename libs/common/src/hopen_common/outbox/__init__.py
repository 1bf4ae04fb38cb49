from hopen_common.outbox.relay import OutboxRelay
from hopen_common.outbox.writer import publier, publier_lot

__all__ = ["OutboxRelay", "publier", "publier_lot"]
