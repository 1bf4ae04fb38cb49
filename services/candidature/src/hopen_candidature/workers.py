"""`python -m hopen_candidature.workers`: outbox relay + consumer without the HTTP API."""

import asyncio

from hopen_candidature.main import spec
from hopen_common.service import run_workers_only

if __name__ == "__main__":
    asyncio.run(run_workers_only(spec()))
