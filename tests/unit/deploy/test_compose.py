"""The compose file stays valid for Debian's docker-compose (no engine is needed to check it)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_every_service_of_the_workspace_is_in_the_compose_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    built = {
        service["build"]["args"]["SERVICE"]
        for service in compose["services"].values()
        if "args" in service.get("build", {})
    }

    assert built == {"gateway"} | {
        path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
    }
