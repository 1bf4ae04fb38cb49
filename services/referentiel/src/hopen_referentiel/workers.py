"""`python -m hopen_referentiel.workers`: outbox relay + consumer without the HTTP API."""

import asyncio

from hopen_common.service import run_workers_only
from hopen_referentiel.main import spec

if __name__ == "__main__":
    asyncio.run(run_workers_only(spec()))
