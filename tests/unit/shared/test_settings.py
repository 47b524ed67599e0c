"""Settings: a prefix per service first, then plain names; refusals outside development."""

from typing import ClassVar

import pytest
from pydantic import ValidationError

from shared.settings import ServiceSettings


class SampleSettings(ServiceSettings, env_prefix="SAMPLE_"):
    service_name: ClassVar[str] = "sample"


def test_the_prefixed_name_wins_over_the_plain_one(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "plain:9092")
    monkeypatch.setenv("SAMPLE_KAFKA_BOOTSTRAP_SERVERS", "prefixed:9092")
    monkeypatch.setenv("RELAY_BATCH_SIZE", "7")

    settings = SampleSettings()

    assert settings.kafka_bootstrap_servers == "prefixed:9092"
    assert settings.relay_batch_size == 7


def test_defaults_put_the_database_in_the_data_folder_and_name_the_topic(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    settings = SampleSettings()

    assert settings.database_url == "sqlite:///data/sample.db"
    assert settings.topic == "sample.events"


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        SampleSettings(environment="production")

    assert (
        SampleSettings(environment="production", jwt_secret="a-real-secret").environment
        == "production"
    )


@pytest.mark.parametrize("name", ["RELAY_BATCH_SIZE", "CONSUMER_BATCH_SIZE", "REPLAY_BATCH_SIZE"])
def test_a_batch_size_below_one_is_refused_at_start(monkeypatch, name):
    monkeypatch.setenv(name, "0")

    with pytest.raises(ValidationError, match=name.lower()):
        SampleSettings()
