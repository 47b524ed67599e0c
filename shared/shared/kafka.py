"""Kafka clients configured the platform's way, and topic creation."""

import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-producer",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=0,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def make_offsets_reader(settings: ServiceSettings) -> AIOKafkaConsumer:
    """A group-less consumer, only to read the end offsets of partitions."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-offsets",
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )


def make_admin(settings: ServiceSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-admin",
        request_timeout_ms=10_000,
    )


async def ensure_topics(
    admin: AIOKafkaAdminClient, settings: ServiceSettings, topics: list[str]
) -> None:
    """Create the topics that do not exist yet, with the configured partition count."""
    existing = set(await admin.list_topics())
    missing = [topic for topic in topics if topic not in existing]
    if not missing:
        return
    new = [
        NewTopic(topic, settings.kafka_partitions, settings.kafka_replication_factor)
        for topic in missing
    ]
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics(new)
    log.info("created topics", extra={"topics": missing})


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> set[int]:
    [description] = await admin.describe_topics([topic])
    return {partition["partition"] for partition in description["partitions"]}
