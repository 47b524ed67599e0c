"""Schemathesis through the gateway: its merged OpenAPI document, against the gateway in front of
the five services, all served over HTTP on a real broker and real databases.

The same checks as at each service, and the gateway's own: tokens checked at the edge, paths
that stay in the route table, its errors (429, 502, 504) documented.
"""

from collections.abc import Iterator

import httpx
import pytest
from schemathesis.checks import positive_data_acceptance

from tests.security.fuzzing import (
    authenticate,
    existing_ids,
    fuzzer_authorization,
    gateway_document,
    gateway_schema,
)
from tests.security.platform import LivePlatform, live_platform

pytestmark = pytest.mark.integration

KNOWN: dict[str, list[str]] = {}
SCHEMA = gateway_schema()
SCHEMA.hook("flatmap_path_parameters")(existing_ids(KNOWN))
authenticate(SCHEMA, fuzzer_authorization())


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[LivePlatform]:  # type: ignore[no-untyped-def]
    with live_platform(str(tmp_path_factory.mktemp("fuzz-gateway"))) as running:
        KNOWN.clear()
        KNOWN.update(running.ids)
        yield running


def test_the_document_fuzzed_is_the_one_served(platform):
    served = httpx.get(f"{platform.urls['gateway']}/api/openapi.json", timeout=30).json()

    assert served == gateway_document()


@SCHEMA.parametrize()
def test_the_gateway_keeps_the_contract(case, platform):
    # Made-up credentials are valid data that a sign-in refuses (401): its contract.
    sign_in = case.operation.path == "/auth/token"
    case.call_and_validate(
        base_url=platform.urls["gateway"],
        excluded_checks=[positive_data_acceptance] if sign_in else None,
    )
