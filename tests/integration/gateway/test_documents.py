"""What the gateway serves itself: the merged OpenAPI document, the docs page, the dashboard."""

import re

import pytest

from gateway.main import create_app as create_gateway
from tests.integration.gateway.conftest import gateway_settings
from tests.support.apps import running

pytestmark = pytest.mark.integration


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


async def test_the_openapi_document_merges_the_services_under_their_prefixes(gateway):
    response = await gateway.client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert {"/auth/token", "/api/people/v1/people", "/api/people/v1/people/{person_id}"} <= set(
        paths
    )
    assert not any(path.startswith("/v1/") for path in paths)
    schemas = document["components"]["schemas"]
    dangling = {ref for ref in refs(document) if ref.split("/")[-1] not in schemas}
    assert dangling == set()
    assert "people.PersonPublic" in schemas
    operation_ids = [
        operation["operationId"]
        for operations in paths.values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"HTTPBearer", "ApiKey"} <= set(document["components"]["securitySchemes"])
    # The others are not running in this test, and the document says so.
    assert set(document["info"]["x-unavailable-services"]) == {
        "communities",
        "listening",
        "collaboration",
        "strategy",
    }


@pytest.fixture
def web_dir(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div>')
    (tmp_path / "docs.html").write_text("<!doctype html><title>API</title>")
    (tmp_path / "assets" / "index-3f2a1b.js").write_text("console.log('agora');" * 200)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@pytest.fixture
async def dashboard(web_dir):
    async with running(create_gateway(gateway_settings(web_dir=str(web_dir)))) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/overview", "/communities/0193", "/people/x/y?tab=2"])
async def test_the_dashboards_routes_get_its_page(dashboard, path):
    response = await dashboard.get(path)

    assert response.status_code == 200
    assert response.text == '<!doctype html><div id="root"></div>'
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_assets_are_cached_for_good_and_compressed(dashboard):
    response = await dashboard.get("/assets/index-3f2a1b.js", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.startswith("console.log")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/assets/missing-0000.js", 404),
        ("GET", "/api/unknown", 404),
        ("GET", "/auth/elsewhere", 404),
        ("POST", "/overview", 405),
    ],
)
async def test_what_the_dashboard_does_not_serve(dashboard, method, path, status):
    response = await dashboard.request(method, path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    ["/../../etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd"],
)
async def test_a_path_out_of_the_build_gets_the_page_never_the_file(dashboard, path):
    response = await dashboard.get(path)

    assert response.text == '<!doctype html><div id="root"></div>'


async def test_the_docs_page_is_served_from_the_build(dashboard):
    response = await dashboard.get("/api/docs")

    assert response.status_code == 200
    assert "<title>API</title>" in response.text


async def test_without_a_build_the_api_still_works_and_the_page_says_why(tmp_path):
    settings = gateway_settings(web_dir=str(tmp_path / "missing"))
    async with running(create_gateway(settings)) as client:
        page = await client.get("/")
        health = await client.get("/healthz")

    assert page.status_code == 503
    assert re.search("make web", page.json()["detail"])
    assert health.status_code == 200
