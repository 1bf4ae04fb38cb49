from hopen_common.db.alembic_env import run_migrations
from hopen_reporting.models import metadata
from hopen_reporting.settings import ReportingSettings

run_migrations(metadata, ReportingSettings().database_url)
