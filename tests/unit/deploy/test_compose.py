"""The compose file stays valid for Debian's docker-compose (no engine is needed to check it)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_every_service_of_the_platform_and_of_the_workspace_is_in_the_compose_file(
    services, workspace_services, platform_services
):
    built = {
        service["build"]["args"]["SERVICE"]
        for service in services.values()
        if "args" in service.get("build", {})
    }

    assert built == platform_services | {"gateway"}
    assert workspace_services <= built


def test_only_the_gateway_publishes_a_port_so_that_any_service_can_be_scaled(
    services, platform_services
):
    for name in platform_services:
        assert "ports" not in services[name], name
        assert "container_name" not in services[name], name
    assert "container_name" not in services["gateway"]


def test_each_service_is_healthy_once_ready_and_starts_after_its_dependencies(
    services, platform_services
):
    for name in platform_services | {"gateway"}:
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"]), name
    for name in platform_services:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "kafka-topics": {"condition": "service_completed_successfully"},
        }
    assert services["gateway"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in platform_services
    }
    assert services["kafka-topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}


def test_each_service_has_a_database_of_its_own(services, platform_services):
    created = (ROOT / "deploy/postgres/create-databases.sql").read_text()

    for name in platform_services:
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.endswith(f"@postgres:5432/{name}"), url
        assert f"CREATE DATABASE {name};" in created


def test_services_read_the_partition_count_the_topics_are_created_with(services, platform_services):
    for name in platform_services:
        environment = services[name]["environment"]
        assert (
            environment["KAFKA_PARTITIONS"] == services["kafka-topics"]["environment"]["PARTITIONS"]
        )
        # Apache Kafka, unlike the local broker, has the idempotent producer.
        assert environment["KAFKA_IDEMPOTENCE"] == "true"


def test_the_gateway_is_built_with_the_dashboard(services, platform_services):
    assert services["gateway"]["build"]["target"] == "gateway"
    for name in platform_services:
        assert "target" not in services[name]["build"], name
