"""The provincial-sync service's tables, all in the PostgreSQL schema `provincial_sync`."""

from hotline.shared.db import service_metadata
from hotline.shared.messaging.tables import define_messaging_tables

SCHEMA = "provincial_sync"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)
