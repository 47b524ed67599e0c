"""deploy/Dockerfile: linted, small, non-root images; the gateway's with the dashboard."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy/Dockerfile"
UV = ROOT / ".tools/bin/uv"


def stages() -> dict[str, list[str]]:
    """Each stage's name and its instructions, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    result: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            current = result.setdefault(line.split()[-1], [line])
        else:
            current.append(line)
    return result


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line for line in stage if line.startswith(keyword + " ")]


def test_hadolint_finds_nothing_to_say():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_service_image_is_the_default_target_and_the_gateway_its_own():
    names = list(stages())

    assert names == ["build", "web", "runtime", "gateway", "service"]
    assert stages()["service"] == ["FROM runtime AS service"]
    assert stages()["gateway"][0] == "FROM runtime AS gateway"


def test_the_final_image_runs_as_a_user_with_a_health_check_and_no_build_tools():
    runtime = stages()["runtime"]

    assert instructions(runtime, "FROM") == ["FROM ${PYTHON_IMAGE} AS runtime"]
    assert instructions(runtime, "USER") == ["USER 10001:10001"]
    assert "/healthz" in instructions(runtime, "HEALTHCHECK")[0]
    copies = instructions(runtime, "COPY")
    assert copies == ["COPY --from=build /app/venv /app/venv"], "only the service's environment"
    assert all("apt-get" not in line for line in instructions(runtime, "RUN"))
    assert "exec uvicorn ${SERVICE}.main:create_app --factory" in instructions(runtime, "CMD")[0]


def test_only_this_service_and_no_dev_tools_go_into_its_environment():
    [sync] = [line for line in instructions(stages()["build"], "RUN") if "uv sync" in line]

    assert "--frozen --no-dev --no-editable --package agora-${SERVICE}" in sync


def test_the_gateway_image_serves_the_dashboard_built_in_a_node_stage():
    web, gateway = stages()["web"], stages()["gateway"]

    assert instructions(web, "FROM") == ["FROM ${NODE_IMAGE} AS web"]
    assert instructions(web, "RUN") == ["RUN npm ci --no-audit --no-fund", "RUN npm run build"]
    assert "COPY --from=web /web/dist /app/web" in gateway
    assert "ENV WEB_DIR=/app/web" in gateway


def test_the_dashboard_project_builds_with_npm_ci_and_npm_run_build():
    web = ROOT / "gateway/web"
    if not (web / "package.json").exists():
        pytest.skip("gateway/web has no package.json yet")

    assert (web / "package-lock.json").exists(), "npm ci needs the lock file"
    assert "build" in json.loads((web / "package.json").read_text())["scripts"]


def test_the_build_context_leaves_out_local_environments_and_dependencies():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()

    for entry in (".git", ".venv", ".tools", "**/node_modules", "data"):
        assert entry in ignored


@pytest.mark.skipif(not UV.exists(), reason="uv is not installed in .tools (make install)")
@pytest.mark.parametrize("package", ["people", "communities", "listening", "collaboration",
                                     "strategy", "gateway"])  # fmt: skip
def test_each_image_environment_has_what_its_service_imports(tmp_path, package):
    """The build stage's `uv sync`, into an empty environment: a dependency a service uses but
    does not declare shows here, as it would when its container starts."""
    if package != "gateway" and not (ROOT / "services" / package / "pyproject.toml").exists():
        pytest.skip(f"the {package} service has not landed yet")
    environment = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    sync = subprocess.run(
        [str(UV), "sync", "--frozen", "--no-dev", "--no-editable", "--package", f"agora-{package}",
         "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert sync.returncode == 0, sync.stderr

    python = environment / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", f"import uvicorn, {package}.main; {package}.main.create_app"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    installed = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pytest'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert installed.stdout.strip() == "None", "no dev tools in an image"
