"""The gateway's path check: a request can only reach a configured service, never elsewhere."""

import pytest

from gateway.proxy import BadPath, upstream_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/api/people/v1/people", b"/v1/people"),
        (b"/api/people/v1/people/0193-x/skills/c%23", b"/v1/people/0193-x/skills/c%23"),
        (b"/api/strategy/v1/overview", b"/v1/overview"),
    ],
)
def test_paths_are_passed_on_as_sent(raw, expected):
    service = raw.split(b"/")[2].decode()

    assert upstream_path(raw, service) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/people/../strategy/v1/overview",
        b"/api/people/v1/%2e%2e/%2e%2e/admin",
        b"/api/people/v1%2fpeople",
        b"/api/people/v1%2Fpeople",
        b"/api/people/v1%5cpeople",
        b"/api/people//evil.example/v1",
        b"/api/people/http://evil.example/",
        b"/api/people/v1/./people",
        b"/api/people/v1\\people",
    ],
)
def test_path_tricks_are_refused(raw):
    with pytest.raises(BadPath):
        upstream_path(raw, "people")
