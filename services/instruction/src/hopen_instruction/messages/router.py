"""A dossier's message thread, ARS side (issue 9 item 3): /v1/dossiers/{id}/messages and
/v1/projets/{id}/messages (the routes: hopen_common.fil_api)."""

from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth import Ars, ArsOuDns
from hopen_common.fil import MessageDemande
from hopen_common.fil_api import routes_du_fil
from hopen_instruction.messages import service

router = APIRouter(tags=["messages"])

routes_du_fil(
    router, service, prefixes={"candidature": "/v1/dossiers", "projet": "/v1/projets"},
    lecteur=ArsOuDns,
    ecrivain=Ars,
    demande=MessageDemande,
    docs={
        "lister": "The thread, oldest first, both sides' messages with their read receipts. ARS of the"
                  " region, DNS (reads only); another region's dossier: 404.",
        "envoyer": "The ARS writes to the establishment (MessageEnvoyeParArs). A withdrawn or closed"
                   " dossier: 409. Accepts an Idempotency-Key.",
        "lecture": "The ARS's read receipt of an establishment's message (MessageLuParArs, once; again:"
                   " unchanged).",
    },
)
