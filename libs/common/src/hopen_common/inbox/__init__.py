from hopen_common.inbox.consumer import EvenementRefuse, EventConsumer, Handler, LotHandler

__all__ = ["EvenementRefuse", "EventConsumer", "Handler", "LotHandler"]
