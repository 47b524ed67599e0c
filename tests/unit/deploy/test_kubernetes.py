"""deploy/k8s: each overlay renders with Kustomize and every object is valid Kubernetes.

kubectl renders the overlays (`kubectl kustomize`): it comes with the development machines;
elsewhere install it (https://kubernetes.io/docs/tasks/tools/) or these tests are skipped.
"""

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
OVERLAYS = ["dev", "prod"]
# The oldest Kubernetes still supported by its providers, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed: it renders the overlays"
)


def render(overlay: str) -> list[dict]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: it renders the overlays")
    return request.param, render(request.param)


def objects(documents: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def config_name(documents: list[dict]) -> str:
    return next(n for n in objects(documents, "ConfigMap") if n.startswith("agora-config"))


def config(documents: list[dict]) -> dict[str, str]:
    return objects(documents, "ConfigMap")[config_name(documents)]["data"]


@needs_kubectl
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_kubernetes(rendered, version):
    _, documents = rendered

    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


@needs_kubectl
def test_each_service_has_a_deployment_a_service_an_autoscaler_and_a_disruption_budget(
    rendered, platform_services, workspace_services
):
    _, documents = rendered
    expected = platform_services | {"gateway"}

    assert workspace_services <= platform_services
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        named = {name for name in objects(documents, kind) if name not in ("kafka", "postgres")}
        assert named == expected, kind


@needs_kubectl
def test_each_deployment_is_probed_sized_scraped_and_stops_gracefully(rendered):
    _, documents = rendered
    deployments = objects(documents, "Deployment")

    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        [container] = pod["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert set(container["resources"]) == {"requests", "limits"}, name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        assert pod["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8000",
            "prometheus.io/path": "/metrics",
        }
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        # uvicorn's 15 s for requests in flight, the preStop pause and the lifespan's stop.
        assert pod["spec"]["terminationGracePeriodSeconds"] >= 30
        assert "replicas" not in deployment["spec"], "the autoscaler owns the count"


@needs_kubectl
def test_strategy_replicas_are_bounded_by_the_partition_count(rendered):
    _, documents = rendered
    autoscalers = objects(documents, "HorizontalPodAutoscaler")

    partitions = int(config(documents)["KAFKA_PARTITIONS"])
    assert autoscalers["strategy"]["spec"]["maxReplicas"] == partitions
    manifest = (ROOT / "deploy/k8s/base/strategy.yaml").read_text()
    assert "maxReplicas = KAFKA_PARTITIONS" in manifest


@needs_kubectl
def test_the_topics_job_creates_the_topics_with_the_services_partition_count(rendered):
    _, documents = rendered
    [job] = objects(documents, "Job").values()
    [container] = job["spec"]["template"]["spec"]["containers"]
    [script] = [
        d for d in objects(documents, "ConfigMap").values()
        if d["metadata"]["name"].startswith("kafka-topics-script")
    ]  # fmt: skip

    partitions = {e["name"]: e["valueFrom"] for e in container["env"]}["PARTITIONS"]
    assert partitions["configMapKeyRef"]["key"] == "KAFKA_PARTITIONS"
    assert partitions["configMapKeyRef"]["name"] == config_name(documents)
    assert (
        script["data"]["create-topics.sh"] == (ROOT / "deploy/kafka/create-topics.sh").read_text()
    )


@needs_kubectl
def test_secrets_are_generated_in_dev_and_expected_to_exist_in_prod(rendered):
    overlay, documents = rendered
    secrets = objects(documents, "Secret")
    people = objects(documents, "Deployment")["people"]["spec"]["template"]["spec"]
    [database] = [e for e in people["containers"][0]["env"] if e["name"] == "DATABASE_URL"]
    reference = database["valueFrom"]["secretKeyRef"]

    assert reference["key"] == "PEOPLE_DATABASE_URL"
    if overlay == "dev":
        assert list(secrets) == [reference["name"]]
        assert reference["name"].startswith("agora-secrets-")
    else:
        assert secrets == {}
        assert reference["name"] == "agora-secrets"
        assert config(documents)["ENVIRONMENT"] == "production"


@needs_kubectl
def test_secrets_stay_out_of_the_config_map(rendered):
    _, documents = rendered

    for key in config(documents):
        assert "SECRET" not in key and "DATABASE_URL" not in key and "PASSWORD" not in key
