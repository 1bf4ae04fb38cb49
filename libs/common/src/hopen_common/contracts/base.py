from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    # Unknown fields are refused: a producer on a newer minor must bump the version.
    model_config = ConfigDict(extra="forbid", frozen=True)
