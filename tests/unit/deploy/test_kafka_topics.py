"""deploy/kafka/create-topics.sh, run against a stand-in kafka-topics.sh that records its calls."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy/kafka/create-topics.sh"

STAND_IN = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in *--describe*) echo "Topic: people.events  PartitionCount: 6";; esac
"""


def created_topics(tmp_path: Path, **environment: str) -> dict[str, dict[str, str]]:
    """Runs the script; returns each topic created with its options (--partitions and so on)."""
    stand_in = tmp_path / "kafka-topics.sh"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    calls = tmp_path / "calls"
    subprocess.run(
        ["sh", str(SCRIPT)],
        env={**os.environ, "KAFKA_TOPICS": str(stand_in), "CALLS": str(calls), **environment},
        check=True,
        capture_output=True,
    )
    topics = {}
    for line in calls.read_text().splitlines():
        words = shlex.split(line)
        if "--create" in words:
            options = dict(zip(words, words[1:], strict=False))
            topics[options["--topic"]] = options
    return topics


def test_every_service_gets_its_topic_and_dead_letter_topic(
    tmp_path, platform_services, workspace_services
):
    topics = created_topics(tmp_path, PARTITIONS="6")

    assert set(topics) == {
        f"{service}.events{suffix}" for service in platform_services for suffix in ("", ".dlq")
    }
    assert workspace_services <= platform_services


def test_the_partition_count_must_be_given_so_it_is_the_one_the_services_read(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        created_topics(tmp_path, PARTITIONS="")

    assert b"KAFKA_PARTITIONS" in refused.value.stderr
    assert not (tmp_path / "calls").exists()


@pytest.mark.parametrize("partitions", ["3", "12"])
def test_the_partition_count_and_the_replication_are_set_by_the_environment(tmp_path, partitions):
    topics = created_topics(
        tmp_path, PARTITIONS=partitions, REPLICATION_FACTOR="3", MIN_INSYNC_REPLICAS="2"
    )

    assert {options["--partitions"] for options in topics.values()} == {partitions}
    assert {options["--replication-factor"] for options in topics.values()} == {"3"}
    assert {options["--config"] for options in topics.values()} == {"min.insync.replicas=2"}
    for options in topics.values():
        assert "--if-not-exists" in options  # run again, it changes nothing
