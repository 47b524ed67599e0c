"""A story told in events, with the producers' own payload models, published to a real broker."""

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from tests.support.broker import Broker
from tests.support.history import History, Message, Person

__all__ = ["Person", "Scenario"]


@dataclass
class Scenario(History):
    """Writes the events each service would publish, in order; `publish` sends them all."""

    async def publish(self, broker: Broker, messages: list[Message] | None = None) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            for topic, key, value in self.messages if messages is None else messages:
                await producer.send(topic, value, key=key)
            await producer.flush()
        finally:
            await producer.stop()
