"""A dossier's message thread, establishment side (issue 9 item 3): /v1/candidatures/{id}/messages and
/v1/projets/{id}/messages (the routes: hopen_common.fil_api)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from hopen_candidature.messages import service
from hopen_common.auth import Etablissement
from hopen_common.fil import PIECES_MAX, MessageDemande
from hopen_common.fil_api import routes_du_fil

router = APIRouter(tags=["messages"])


class MessageAvecPieces(MessageDemande):
    pieces: list[str] = Field(default=[], max_length=PIECES_MAX,
                              description="ids of pieces of this dossier (uploaded on .../pieces) to attach")


routes_du_fil(
    router, service, prefixes={"candidature": "/v1/candidatures", "projet": "/v1/projets"},
    lecteur=Etablissement, ecrivain=Etablissement, demande=MessageAvecPieces,
    docs={
        "lister": "The thread with the ARS, oldest first, with read receipts. The dossier's owner only;"
                  " anyone else: 404.",
        "envoyer": "Writes to the ARS (MessageEnvoyeParEtablissement), optionally attaching pieces of the"
                   " dossier. Not deposited yet: 409; withdrawn or closed: 409 (the thread stays"
                   " readable). Accepts an Idempotency-Key.",
        "lecture": "The read receipt of an ARS message (MessageLuParEtablissement, once; again:"
                   " unchanged).",
    },
)
