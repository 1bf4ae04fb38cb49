"""`python -m hopen_candidature.workers [relais] [consommateur] [taches]`: outbox relay, consumer and
periodic tasks without the HTTP API (all three unless some are named)."""

import sys

from hopen_candidature.main import spec
from hopen_common.reveil import executer
from hopen_common.service import roles_demandes, run_workers_only

if __name__ == "__main__":
    executer(run_workers_only(spec(), roles_demandes(sys.argv[1:])))
