"""Money on the wire: a decimal string in euros with two decimals, never a float."""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

Euros = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
