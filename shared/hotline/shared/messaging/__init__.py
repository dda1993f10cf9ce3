"""Events, the transactional outbox, the idempotent consumer and the broker connection."""
