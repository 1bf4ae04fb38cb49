from hopen_common.db.alembic_env import run_migrations
from hopen_financement.models import metadata
from hopen_financement.settings import FinancementSettings

run_migrations(metadata, FinancementSettings().database_url)
