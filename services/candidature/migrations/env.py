from hopen_candidature.models import metadata
from hopen_candidature.settings import CandidatureSettings
from hopen_common.db.alembic_env import run_migrations

run_migrations(metadata, CandidatureSettings().database_url)
