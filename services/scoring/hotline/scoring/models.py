"""The scoring service's tables, all in the PostgreSQL schema `scoring`."""

from hotline.shared.db import service_metadata
from hotline.shared.messaging.tables import define_messaging_tables

SCHEMA = "scoring"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)
