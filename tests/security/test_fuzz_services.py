"""Schemathesis against every service's OpenAPI document, each service running with its lifespan
on a real broker and a real database, served over HTTP.

Positive and negative cases as the CCO, with every default check: no 5xx, status codes, media
types, headers and bodies as documented, invalid data refused, valid data not refused for no
reason, and authentication enforced (`ignored_auth` sends each operation again without a token
and with a bad one: 401 or 403 expected).
"""

from collections.abc import Iterator

import pytest
import schemathesis

from tests.security.fuzzing import (
    authenticate,
    existing_ids,
    fuzzer_authorization,
    service_schemas,
)
from tests.security.platform import LivePlatform, live_platform

pytestmark = pytest.mark.integration

KNOWN: dict[str, list[str]] = {}
SCHEMAS = service_schemas()
for _schema in SCHEMAS.values():
    _schema.hook("flatmap_path_parameters")(existing_ids(KNOWN))
    authenticate(_schema, fuzzer_authorization())


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[LivePlatform]:  # type: ignore[no-untyped-def]
    with live_platform(str(tmp_path_factory.mktemp("fuzz-services"))) as running:
        KNOWN.clear()
        KNOWN.update(running.ids)
        yield running


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_the_service_keeps_its_contract(case, platform):
    service = case.operation.schema.raw_schema["info"]["x-service"]

    case.call_and_validate(base_url=platform.urls[service])
