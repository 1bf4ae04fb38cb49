from hopen_common.inbox.consumer import EventConsumer, Handler

__all__ = ["EventConsumer", "Handler"]
