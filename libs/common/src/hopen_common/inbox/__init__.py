from hopen_common.inbox.consumer import EvenementRefuse, EventConsumer, Handler

__all__ = ["EvenementRefuse", "EventConsumer", "Handler"]
