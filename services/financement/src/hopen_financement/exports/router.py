from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from hopen_common.auth.portee import exiger_region, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.db.messaging import JournalAudit
from hopen_common.region import CodeRegion
from hopen_financement.acces import Pilote
from hopen_financement.exports.rendu import en_csv, en_xlsx
from hopen_financement.exports.service import circulaire

router = APIRouter(prefix="/v1/exports", tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/circulaire", response_class=Response, responses={
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the circular table"},
    404: {"description": "another region than the ARS's own (its existence is not told)"}})
async def exporter_circulaire(
    session: SessionDep, principal: Pilote,
    region: Annotated[CodeRegion | None, Query(description="omit for national (dns)")] = None,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",  # noqa: A002 - the API's word
) -> Response:
    """Budget-circular table per ES/GHT: objectives, amorçage, solde, reprise, HospiConnect, AAP, totals
    (per region and national). Roles: ars (its region, the default; another answers 404), dns (any
    region, or national without `region`)."""
    region = region or region_de_lecture(principal, None)  # an ARS's default: its own region
    if region is not None:
        exiger_region(principal, region, ressource="Export", identifiant=region)
    table = await circulaire(session, region)
    nom = f"circulaire_{region or 'national'}"
    # An export is a read of every amount of its scope: audited (issue 10) in the read's transaction,
    # which commits before the file is sent.
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="exporter_circulaire",
                             objet_type="export", objet_id=nom, region=region,
                             details={"format": format, "lignes": len(table.lignes),
                                      "total": str(table.total.montants["total"])}))
    await session.flush()
    if format == "xlsx":
        return Response(en_xlsx(table, nom), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{nom}.xlsx"'})
    return Response(en_csv(table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{nom}.csv"'})
