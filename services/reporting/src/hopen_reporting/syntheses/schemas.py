from __future__ import annotations

from pydantic import BaseModel

from hopen_common.monnaie import Euros
from hopen_reporting.syntheses.rules import Totaux


class TotauxLus(BaseModel):
    amorcage: Euros
    solde: Euros
    reprise: Euros  # owed back by establishments
    net_phase1: Euros  # amorcage + solde - reprise
    hospiconnect: Euros
    aap_acceptation: Euros
    aap_atteinte: Euros
    total: Euros

    @classmethod
    def de(cls, t: Totaux) -> TotauxLus:
        n = t.par_nature
        return cls(amorcage=n["amorcage"], solde=n["solde"], reprise=n["reprise"], net_phase1=t.net_phase1,
                   hospiconnect=n["hospiconnect"], aap_acceptation=n["aap_acceptation"],
                   aap_atteinte=n["aap_atteinte"], total=t.total)


class EnveloppeLue(BaseModel):
    dispositif: str
    alloue: Euros
    engage: Euros
    consomme: Euros
    disponible: Euros


class Synthese(TotauxLus):
    """A region's synthesis: the totals (top level, as notified), by secteur, candidatures by
    status, and its envelopes' four figures."""

    region: str
    candidatures: dict[str, int]
    par_secteur: dict[str, TotauxLus]
    enveloppes: list[EnveloppeLue]


class SyntheseNationale(TotauxLus):
    regions: list[Synthese]
