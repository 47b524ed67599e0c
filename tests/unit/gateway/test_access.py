"""Which routes are public, and how API keys are recognised."""

import pytest

from gateway.api_keys import ApiKeys, digest, new_key
from gateway.main import is_public


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("POST", "listening", "v1/faq/ask"),
        ("POST", "listening", "v1/faq/asks/0193-abc/feedback"),
        ("GET", "people", "healthz"),
        ("GET", "strategy", "readyz"),
    ],
)
def test_public_routes(method, service, path):
    assert is_public(method, service, path)


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("GET", "listening", "v1/faq/ask"),
        ("POST", "people", "v1/faq/ask"),
        ("POST", "listening", "v1/faq"),
        ("POST", "listening", "v1/faq/asks/a/b/feedback"),
        ("POST", "listening", "v1/faq/ask/more"),
        ("GET", "people", "v1/people"),
        ("GET", "people", "metrics"),
        ("POST", "people", "healthz"),
    ],
)
def test_everything_else_needs_credentials(method, service, path):
    assert not is_public(method, service, path)


def test_a_key_is_known_by_its_hash_only():
    key, entry = new_key("crm-sync")
    keys = ApiKeys([entry])

    assert entry.sha256 == digest(key) and key not in entry.model_dump_json()
    assert keys.client(key) == "crm-sync"
    assert keys.client(key + "x") is None
    assert keys.client("") is None
