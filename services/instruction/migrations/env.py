from hopen_common.db.alembic_env import run_migrations
from hopen_instruction.models import metadata
from hopen_instruction.settings import InstructionSettings

run_migrations(metadata, InstructionSettings().database_url)
