from hotline.shared.clock.store import metadata
from hotline.shared.migrations import run_migrations

run_migrations(metadata)
