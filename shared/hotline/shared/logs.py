"""Process-wide logging: one line per record, level from settings."""

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    # aiokafka narrates every metadata refresh at INFO; its warnings are what operators need.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLogger().level))
