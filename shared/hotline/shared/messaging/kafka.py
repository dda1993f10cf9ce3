"""One connection to the Kafka-protocol broker per process: a lazily started producer and topics."""

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hotline.shared.messaging.events import ALL_TOPICS, DEAD_LETTER_SUFFIX
from hotline.shared.settings import KafkaSettings

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 4


def event_topics(topics: tuple[str, ...] = ALL_TOPICS) -> dict[str, int]:
    """Our topics and their dead-letter topics, with their partition counts."""
    return {name: DEFAULT_PARTITIONS for t in topics for name in (t, t + DEAD_LETTER_SUFFIX)}


BROKER_CHECK_TIMEOUT_SECONDS = 3.0


def consumer_options(settings: KafkaSettings) -> dict[str, Any]:
    """Options every consumer of ours shares: manual commits, start from the earliest kept event."""
    return {
        "bootstrap_servers": settings.bootstrap,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "request_timeout_ms": settings.request_timeout_ms,
        "rebalance_timeout_ms": settings.session_timeout_ms,
    }


class Broker:
    """The process's producer, started on first use and restarted after it fails to start."""

    def __init__(self, settings: KafkaSettings, *, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def producer(self) -> AIOKafkaProducer:
        """The started producer; raises `KafkaError` while the broker cannot be reached."""
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.settings.bootstrap,
                    client_id=self.client_id,
                    acks="all",
                    enable_idempotence=self.settings.enable_idempotence,
                    request_timeout_ms=self.settings.request_timeout_ms,
                    linger_ms=5,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def is_reachable(self) -> bool:
        try:
            producer = await asyncio.wait_for(self.producer(), BROKER_CHECK_TIMEOUT_SECONDS)
            await asyncio.wait_for(
                producer.client.fetch_all_metadata(), BROKER_CHECK_TIMEOUT_SECONDS
            )
        except Exception:
            return False
        return True

    async def ensure_topics(
        self, partitions_by_topic: Mapping[str, int], configs: Mapping[str, str] | None = None
    ) -> None:
        """Create the topics the broker lacks (a broker that lost its log lacks them all)."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.bootstrap, client_id=f"{self.client_id}-admin"
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(
                    name,
                    num_partitions=partitions,
                    replication_factor=1,
                    topic_configs=dict(configs or {}),
                )
                for name, partitions in partitions_by_topic.items()
                if name not in existing
            ]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def committed_offsets(
        self, consumer_groups: Mapping[str, Sequence[str]]
    ) -> dict[tuple[str, int], int]:
        """For each partition of each topic, the lowest offset committed by the groups that read
        it: everything below has been processed by all of them (a group that never committed on
        a partition counts as 0)."""
        committed: dict[str, dict[tuple[str, int], int]] = {}
        partitions: dict[str, list[int]] = {}
        for group in sorted({group for groups in consumer_groups.values() for group in groups}):
            # Read as the group, with partitions assigned by hand: this joins no group.
            reader = self.new_consumer(group_id=group, fetch_max_wait_ms=10)
            await reader.start()
            try:
                await reader.topics()
                offsets: dict[tuple[str, int], int] = {}
                for topic, groups in consumer_groups.items():
                    if group not in groups:
                        continue
                    partitions[topic] = sorted(reader.partitions_for_topic(topic) or ())
                    for partition in partitions[topic]:
                        offset = await reader.committed(TopicPartition(topic, partition))
                        offsets[(topic, partition)] = offset if offset and offset > 0 else 0
                committed[group] = offsets
            finally:
                await reader.stop()
        return {
            (topic, partition): min(committed[group][(topic, partition)] for group in groups)
            for topic, groups in consumer_groups.items()
            for partition in partitions.get(topic, ())
        }

    def new_consumer(
        self, *topics: str, group_id: str | None, **overrides: Any
    ) -> AIOKafkaConsumer:
        options = consumer_options(self.settings) | overrides
        return AIOKafkaConsumer(
            *topics,
            group_id=group_id,
            client_id=f"{self.client_id}-{group_id or 'reader'}",
            **options,
        )

    async def close(self) -> None:
        """Flush what is in flight and disconnect."""
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def reset(self) -> None:
        """Drop a producer that keeps failing, so the next use reconnects from scratch."""
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), BROKER_CHECK_TIMEOUT_SECONDS)
            except Exception:
                log.warning("producer did not stop cleanly", exc_info=True)
