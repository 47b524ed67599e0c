"""Schemathesis, set up once for every suite that fuzzes the platform's OpenAPI documents.

The documents are the apps' own (`app.openapi()`, what `/openapi.json` serves; a test checks
the live ones match), read when the test modules load, so each operation is a test of its own.
Generation is deterministic (derandomised, a fixed seed) and bounded: `FUZZ_EXAMPLES` examples
per operation in the fuzzing phase (default 6, to keep `make test` short; set it higher for a
full run, e.g. `FUZZ_EXAMPLES=200 uv run pytest tests/security`), plus the coverage phase's
boundary cases.
"""

import os
import uuid
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st

from gateway.main import create_app as create_gateway
from gateway.openapi import merge
from gateway.settings import Settings as GatewaySettings
from shared.auth import issue_token
from tests.security.platform import FACTORIES, SERVICES

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("FUZZ_SEED", "20261127"))

# Valid data may still be refused by a rule the schema cannot say: an unknown department (422),
# a duplicate (409), a cursor this list never gave out (400), another person's object (403).
# Never a 401: the CCO's token goes with every valid case.
ACCEPTED_REFUSALS = ["2xx", "400", "403", "404", "409", "422"]
# Invalid data is refused; a batch over its size is refused as too large (413).
REFUSALS = ["400", "401", "403", "404", "405", "409", "413", "415", "422"]


def config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_REFUSALS},
                "negative_data_rejection": {"expected-statuses": REFUSALS},
            },
        }
    )


# Who fuzzes: the CCO, as a person the directory does not know (their token's department stands
# in). Fixed, because schemathesis builds its coverage cases when the tests are collected.
FUZZER_ID = "00000000-0000-0000-0000-00000000f022"


def fuzzer_authorization() -> str:
    settings = GatewaySettings(log_json=False)  # the JWT settings every process reads
    token = issue_token(settings, subject=FUZZER_ID, roles=["cco", "employee"], department="rd")
    return f"Bearer {token}"


def authenticate(schema: Any, authorization: str) -> None:
    """Every generated request carries `authorization`, as schemathesis's auth: it then knows
    the credentials are the caller's, sends its negative cases without a token without one, and
    `ignored_auth` tries each operation again without the token and with a bad one."""

    class Bearer:
        def get(self, _case, _context):  # type: ignore[no-untyped-def]
            return authorization

        def set(self, case, value, _context):  # type: ignore[no-untyped-def]
            case.headers = {**(case.headers or {}), "Authorization": value}

    schema.auth(refresh_interval=None)(Bearer)


def offline_app(service: str) -> FastAPI:
    """The service's app, not started: enough to read its OpenAPI document."""
    settings_class, create = FACTORIES[service]
    return create(settings_class(database_url="sqlite://", log_json=False))


def service_document(service: str) -> dict[str, Any]:
    document = offline_app(service).openapi()
    document["info"]["x-service"] = service
    return document


def service_schemas() -> dict[str, Any]:
    return {
        service: schemathesis.openapi.from_dict(service_document(service), config=config())
        for service in SERVICES
    }


# Path parameters are replaced, half of the time, by the id of something that exists, so that
# operations on real objects are fuzzed too, not only their 404s.
PATH_KINDS = {
    "person_id": "person",
    "community_id": "community",
    "member_id": "member",
    "question_id": "question",
    "answer_id": "answer",
    "practice_id": "practice",
    "idea_id": "idea",
    "source_id": "source",
    "mention_id": "mention",
    "entry_id": "faq_entry",
    "ask_id": "ask",
    "program_id": "program",
    "department_id": "department",
}


def existing_ids(known: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A `flatmap_path_parameters` hook drawing from `known` (filled once the company exists)."""

    def flatmap(_context, parameters: dict[str, Any] | None):  # type: ignore[no-untyped-def]
        if not parameters:
            return st.just(parameters)
        choices = {}
        for name, value in parameters.items():
            pool = known.get(PATH_KINDS.get(name, ""), [])
            if pool and _looks_like(value, pool[0]):
                choices[name] = st.one_of(st.just(value), st.sampled_from(pool))
            else:
                choices[name] = st.just(value)
        return st.fixed_dictionaries(choices)

    return flatmap


def _looks_like(value: Any, known: str) -> bool:
    """Only a valid value is replaced: negative cases keep the bad value they were made with."""
    try:
        uuid.UUID(known)
    except ValueError:
        return isinstance(value, str)
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def gateway_document() -> dict[str, Any]:
    """The platform's document as the gateway serves it at `/api/openapi.json`."""
    gateway = create_gateway(GatewaySettings(log_json=False))
    return merge(gateway.openapi(), {service: service_document(service) for service in SERVICES})


def gateway_schema() -> Any:
    return schemathesis.openapi.from_dict(gateway_document(), config=config())
