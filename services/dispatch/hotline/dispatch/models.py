"""The dispatch service's tables, all in the PostgreSQL schema `dispatch`."""

from hotline.shared.db import service_metadata
from hotline.shared.messaging_tables import define_messaging_tables

SCHEMA = "dispatch"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)
