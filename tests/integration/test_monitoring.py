"""The Grafana dashboard queries only what the services expose on /metrics, as Prometheus
labels it (deploy/monitoring)."""

import importlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.main import create_app as create_gateway
from gateway.settings import Settings as GatewaySettings
from tests.support.apps import running, service_settings
from tests.support.databases import Databases

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy/monitoring"
# Series Prometheus makes itself for each target, besides what the target exposes.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"sum", "max", "rate", "increase", "histogram_quantile", "by"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def dashboard_queries() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def target_labels() -> set[str]:
    """The labels both scrape configs give every series, besides Prometheus's job and instance."""
    labels = []
    for config in ("prometheus.yml", "prometheus-kubernetes.yml"):
        [job] = yaml.safe_load((MONITORING / config).read_text())["scrape_configs"]
        targets = {rule.get("target_label", "__") for rule in job["relabel_configs"]}
        labels.append({label for label in targets if not label.startswith("__")})
    return (labels[0] & labels[1]) | {"job", "instance"}


def exposed(exposition: str) -> dict[str, set[str]]:
    """Each series name a /metrics page can hold, with the labels seen on it."""
    series: dict[str, set[str]] = {}
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count"]}
    for family in text_string_to_metric_families(exposition):
        for suffix in suffixes.get(family.type, [""]):
            series.setdefault(family.name + suffix, set())
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def metrics(tmp_path_factory, shared_broker) -> AsyncIterator[dict[str, set[str]]]:
    """What every service of the workspace and the gateway expose, started in-process."""
    databases = Databases(str(tmp_path_factory.mktemp("monitoring")))
    services = sorted(
        path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
    )
    apps = [create_gateway(GatewaySettings(log_json=False))]
    for service in services:
        settings_class = importlib.import_module(f"{service}.settings").Settings
        create_app = importlib.import_module(f"{service}.main").create_app
        apps.append(create_app(service_settings(settings_class, databases, shared_broker)))
    series: dict[str, set[str]] = {}
    for app in apps:
        async with running(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            response = await client.get("/metrics")
            assert response.status_code == 200
            for name, labels in exposed(response.text).items():
                series.setdefault(name, set()).update(labels)
    yield series
    databases.drop_all()


async def test_the_dashboard_queries_only_series_the_services_expose(metrics):
    known = set(metrics) | PROMETHEUS_SERIES

    for query in dashboard_queries():
        selected = {name for name, _ in SELECTOR.findall(query)}
        assert selected, f"no metric in {query}"
        assert selected <= known, f"{selected - known} in {query}"
        # A metric named without braces would escape the check above.
        rest = GROUPING.sub("", re.sub(r"\[[^\]]*\]", "", SELECTOR.sub("", query)))
        assert set(IDENTIFIER.findall(rest)) <= PROMQL_WORDS, query


async def test_the_dashboard_groups_and_filters_by_labels_the_series_carry(metrics):
    given = target_labels()

    assert "service" in given, "both scrape configs label each series with its service"
    for query in dashboard_queries():
        names = [name for name, _ in SELECTOR.findall(query)]
        carried = set().union(*(metrics.get(name, set()) for name in names)) | given
        used = {
            label for _, matchers in SELECTOR.findall(query) for label in MATCHER.findall(matchers)
        }
        used |= {label.strip() for group in GROUPING.findall(query) for label in group.split(",")}
        # A series with no sample yet (a consumer with no partition) shows no labels to compare.
        if all(metrics.get(name) for name in names if name not in PROMETHEUS_SERIES):
            assert used <= carried, f"{used - carried} in {query}"
        assert "service" in used, f"not per service: {query}"
