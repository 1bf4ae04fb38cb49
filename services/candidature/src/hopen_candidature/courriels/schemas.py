from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ContactDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")

    courriel: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContactLu(BaseModel):
    finess: str
    courriel: str
    maj_par: str
    maj_le: datetime
