"""Rebuilding the read model from scratch: empty it, forget the events it processed, and set
the consumer group back to the start of each topic, so that the next start of scoring reads
every event the broker still keeps. Stop scoring first: a group with a running member cannot be
moved back."""

from aiokafka import TopicPartition
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.scoring.models import SCHEMA, messaging
from hotline.shared.messaging.kafka import Broker

JOIN_ATTEMPTS = 60
READ_MODEL = (
    "ticket_events",
    "tickets",
    "calls",
    "spot_checks",
    "findings",
    "uploads",
    "province_findings",
)


async def rebuild(engine: AsyncEngine, broker: Broker, group: str, topics: tuple[str, ...]) -> int:
    """Returns how many events the broker holds for scoring to read again. Nothing is emptied
    unless the group could be taken first; if the commit fails afterwards, run it again."""
    # Joined as the group's one member (a broker may refuse a commit from anyone else), the
    # read model emptied, the offsets set back to the start, then left.
    member = broker.new_consumer(*topics, group_id=group, fetch_max_wait_ms=10)
    await member.start()
    try:
        await member.topics()
        wanted = {
            TopicPartition(topic, partition)
            for topic in topics
            for partition in member.partitions_for_topic(topic) or ()
        }
        for _ in range(JOIN_ATTEMPTS):
            await member.getmany(timeout_ms=500)
            if member.assignment() >= wanted:
                break
        else:
            raise RuntimeError(f"{group} could not take all its partitions: is scoring running?")
        partitions = sorted(wanted)
        beginnings = await member.beginning_offsets(partitions)
        ends = await member.end_offsets(partitions)
        async with engine.begin() as connection:
            await connection.execute(
                text(f"TRUNCATE {', '.join(f'{SCHEMA}.{table}' for table in READ_MODEL)}")
            )
            await connection.execute(
                delete(messaging.processed_events).where(
                    messaging.processed_events.c.consumer == group
                )
            )
        await member.commit({tp: beginnings[tp] for tp in partitions})
    finally:
        await member.stop()
    return sum(ends[tp] - beginnings[tp] for tp in partitions)
