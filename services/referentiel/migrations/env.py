from hopen_common.db.alembic_env import run_migrations
from hopen_referentiel.models import metadata
from hopen_referentiel.settings import ReferentielSettings

run_migrations(metadata, ReferentielSettings().database_url)
