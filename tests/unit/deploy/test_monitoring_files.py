"""deploy/monitoring: the dashboard has a panel for each thing ops watch; Prometheus accepts
the scrape config and the dashboard's queries (with promtool, when it is installed)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "deploy/monitoring"
PROMTOOL = shutil.which("promtool")


def dashboard() -> dict:
    return json.loads((MONITORING / "grafana-dashboard.json").read_text())


def queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_the_dashboard_shows_what_ops_watch_per_service():
    titles = {panel["title"] for panel in dashboard()["panels"]}

    assert {
        "Request rate",
        "Latency p50",
        "Latency p99",
        "Error rate",
        "Outbox backlog",
        "Relay errors",
        "Consumer lag",
        "Handler failures",
        "Dead letters",
        "Parked events",
    } <= titles
    for query in queries():
        assert 'service=~"$service"' in query, query


def test_compose_prometheus_scrapes_every_replica_of_every_service(platform_services):
    [job] = yaml.safe_load((MONITORING / "prometheus.yml").read_text())["scrape_configs"]
    [discovery] = job["dns_sd_configs"]

    assert set(discovery["names"]) == platform_services | {"gateway"}
    assert discovery["port"] == 8000


def test_kubernetes_prometheus_keeps_the_annotated_pods_of_the_platform():
    [job] = yaml.safe_load((MONITORING / "prometheus-kubernetes.yml").read_text())["scrape_configs"]
    kept = {
        rule["source_labels"][0]: rule["regex"]
        for rule in job["relabel_configs"]
        if rule.get("action") == "keep"
    }

    assert kept == {
        "__meta_kubernetes_pod_label_app_kubernetes_io_part_of": "agora",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
    }


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed")
def test_promtool_accepts_the_compose_scrape_config():
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(MONITORING / "prometheus.yml")],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed")
def test_promtool_parses_every_query_of_the_dashboard(tmp_path):
    # As recording rules, with Grafana's variables given values, promtool parses each query.
    rules = [
        {
            "record": f"dashboard:query_{n}",
            "expr": query.replace("$__rate_interval", "5m").replace("$service", ".+"),
        }
        for n, query in enumerate(queries())
    ]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    result = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
