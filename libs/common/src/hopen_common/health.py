from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hopen_common.auth.declaration import route_publique

# Probes answer without a token, on purpose (declared: ADR 0029).
router = APIRouter(prefix="/health", tags=["health"], dependencies=[Depends(route_publique)])


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 3)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"ko: {exc}"
    try:
        await request.app.state.producer.verifier(secondes=3)
        checks["kafka"] = "ok"
    except Exception as exc:
        checks["kafka"] = f"ko: {exc}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "ko", "checks": checks}, status_code=200 if ok else 503)
