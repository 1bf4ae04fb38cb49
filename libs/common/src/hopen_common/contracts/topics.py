"""Topic names: hopen.<producing service>.<aggregate>; the key is the aggregate id."""

from collections.abc import Iterable
from enum import StrEnum


class Topics(StrEnum):
    ETABLISSEMENT = "hopen.referentiel.etablissement"
    PROGRAMME = "hopen.referentiel.programme"  # programme data versions, key document name
    CANDIDATURE = "hopen.candidature.candidature"
    DOSSIER = "hopen.instruction.dossier"
    FINANCEMENT = "hopen.financement.financement"
    PROJET = "hopen.instruction.projet"  # AAP project decisions, key projet_id
    ENVELOPPE = "hopen.financement.enveloppe"  # regional envelope ledger, key region
    # Expert opinions: instruction-internal, never read by candidature (the establishment never sees them).
    AVIS = "hopen.instruction.avis"
    ECHEANCE = "hopen.instruction.echeance"  # deadline reminders, key rappel id
    HABILITATION = "hopen.referentiel.habilitation"  # rights of a person (ADR 0022), key habilitation id


# What travels where, and what the Kafka key is (one aggregate's events stay ordered).
# The AsyncAPI document (docs/asyncapi.json) is generated from this table and the registry.
EVENEMENTS_PAR_TOPIC: dict[Topics, tuple[str, ...]] = {
    Topics.ETABLISSEMENT: ("EtablissementPublie",),
    Topics.PROGRAMME: ("ProgrammePublie",),
    Topics.CANDIDATURE: ("CandidatureDeposee", "CandidatureDesistee", "IndicateurDepose", "PieceDeposee",
                         "DepensesDeclarees",
                         "PreuveHospiconnectDeposee", "ProjetAapDepose", "CandidatureRedeposee",
                         "MessageEnvoyeParEtablissement", "MessageLuParEtablissement",
                         "PreuveAtteinteAapDeposee", "RappelDepotEmis"),
    Topics.DOSSIER: ("CandidatureValidee", "CandidatureRefusee", "ObjectifAtteint", "ObjectifNonAtteint",
                     "HospiconnectAnneeDecidee", "DesistementEnregistre", "DesistementRefuse",
                     # issue 9: the ARS transitions of a candidature (contracts/etats.py)
                     "DossierPrisEnInstruction", "CorrectionDemandee", "DossierClasseSansSuite",
                     "DossierRouvert", "MessageEnvoyeParArs", "MessageLuParArs"),
    Topics.FINANCEMENT: ("FinancementNotifie",),
    Topics.PROJET: ("ProjetAapSelectionne", "ProjetAapNonRetenu", "AtteinteProjetAapDecidee",
                    "ProjetPrisEnInstruction", "CorrectionProjetDemandee", "ProjetClasseSansSuite",
                    "ProjetRouvert"),
    Topics.AVIS: ("AvisDemande", "AvisRendu"),
    Topics.ENVELOPPE: ("EnveloppeEngagee", "EnveloppeDesengagee", "EnveloppeConsommee",
                       "EnveloppeRestituee", "EnveloppeTransferee",
                       # issue 10: a DNS transfer waits for a second DNS person (ADR 0025)
                       "TransfertPropose", "TransfertRejete"),
    Topics.ECHEANCE: ("RappelEcheanceEmis",),
    Topics.HABILITATION: ("HabilitationModifiee",),
}
CLE_PAR_TOPIC: dict[Topics, str] = {
    Topics.ETABLISSEMENT: "FINESS (EJ or EG)",
    Topics.PROGRAMME: "programme document name (phase1, hospiconnect, aap, enveloppes_aap...)",
    Topics.CANDIDATURE: "candidature id (AAP project id for ProjetAapDepose and a project's PieceDeposee"
                        " and messages; the draft's id for RappelDepotEmis)",
    Topics.DOSSIER: "candidature id (the dossier's id; an AAP project's id for the ARS's messages on it)",
    Topics.FINANCEMENT: "candidature id",
    Topics.PROJET: "AAP project id",
    Topics.ENVELOPPE: "INSEE region code",
    Topics.AVIS: "dossier id (candidature or AAP project)",
    Topics.ECHEANCE: "reminder id (<echeance>|<cible>|J-7 or J-1)",
    Topics.HABILITATION: "habilitation id (one person at one identity provider)",
}


def topic_dead_letter(consumer: str) -> str:
    return f"hopen.dlq.{consumer}"


# Consumers a service runs beside its own (another group, another inbox name): instruction's webhook
# store reads every topic (issue 11, ADR 0026). Their dead-letter topics are created with the others.
CONSOMMATEURS_SECONDAIRES = ("instruction-webhooks",)


def tous_les_topics(consommateurs: Iterable[str]) -> list[str]:
    """Every domain topic and the dead-letter topic of each consumer (and of the secondary ones):
    what a broker must hold before the services start (so that no consumer subscribes to a topic not
    yet created)."""
    return [t.value for t in Topics] + [topic_dead_letter(c)
                                        for c in (*consommateurs, *CONSOMMATEURS_SECONDAIRES)]
