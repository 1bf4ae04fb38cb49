"""Who may call financement's read endpoints, and the query parameters that name a scope.

The scope checks themselves are `hopen_common.auth.portee` (a resource out of scope answers 404,
a list filter out of scope 403); this module only holds what the routers share on top of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from hopen_common.auth import ArsOuDns, Principal, Role, exiger_roles
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion

Lecteur = Annotated[Principal, Depends(exiger_roles(Role.ETABLISSEMENT, Role.ARS, Role.DNS))]
Pilote = ArsOuDns

# The key is checked at the edge: a mistyped FINESS is a 422 naming the rule, not an empty list.
FinessQuery = Annotated[Finess | None, Query()]
RegionQuery = Annotated[CodeRegion | None, Query()]

