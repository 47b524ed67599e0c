"""What the deployment files are checked against: the platform's services and the workspace's."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def platform_services() -> set[str]:
    """The contract's services: the deployment covers each, whether its code has landed or not."""
    return {"people", "communities", "listening", "collaboration", "strategy"}


@pytest.fixture
def workspace_services() -> set[str]:
    """The services whose code is in the workspace (a directory of services/ with a pyproject)."""
    return {
        path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
    }
