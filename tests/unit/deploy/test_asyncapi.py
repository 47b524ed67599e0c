"""docs/asyncapi.yaml is current, complete, and describes the messages the services send."""

import importlib.util
import json
import uuid
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from people import events as people_events
from shared import events

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = ROOT / "docs/asyncapi.yaml"


@pytest.fixture(scope="module")
def generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("asyncapi", ROOT / "scripts/asyncapi.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def test_the_document_in_the_repository_is_the_one_the_registries_give(generator):
    assert DOCUMENT.read_text() == generator.render(), "run `make asyncapi` and commit the file"


def test_every_service_of_the_workspace_and_every_event_type_is_in_it(
    generator, document, workspace_services
):
    for service in workspace_services:
        registry = generator.published(service)
        channel = document["channels"][f"{service}.events"]
        assert set(channel["messages"]) == {event_type.name for event_type in registry}
        assert f"{service}.events.dlq" in document["channels"]
        for event_type in registry:
            message = document["components"]["messages"][event_type.name]
            assert message["summary"] == event_type.description
        assert document["operations"][f"{service}-publishes"]["action"] == "send"


def test_what_a_service_consumes_is_a_receive_operation(generator, document, workspace_services):
    for service in workspace_services:
        for name in generator.consumed(service):
            topic = f"{name.split('.', 1)[0]}.events"
            if topic not in document["channels"]:
                continue  # its producer has not landed yet
            operation = document["operations"][f"{service}-receives-{topic}"]
            assert {"$ref": f"#/channels/{topic}/messages/{name}"} in operation["messages"]


def test_every_reference_points_inside_the_document(document):
    def references(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    for reference in references(document):
        assert reference.startswith("#/"), reference
        target = document
        for part in reference[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]


def message_validator(document: dict, name: str) -> Draft202012Validator:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:agora:asyncapi", resource)
    schema = {"$ref": f"urn:agora:asyncapi#/components/messages/{name}/payload"}
    return Draft202012Validator(schema, registry=registry)


def registered_person() -> dict:
    payload = people_events.PersonPayload(
        id=uuid.uuid4(),
        name="Zoé Perrin",
        email="zoe@example.com",
        department_id="rd",
        title=None,
        community_experience_years=2.5,
        languages=["fr"],
        active=True,
    )
    cloud_event = events.new_event(
        people_events.PERSON_REGISTERED,
        subject=str(payload.id),
        data=payload,
        event_id=str(uuid.uuid4()),
        request_id="req-1",
    )
    return json.loads(events.encode(cloud_event))


def test_an_event_as_the_outbox_encodes_it_matches_its_message(document):
    validator = message_validator(document, "people.person.registered.v1")

    validator.validate(registered_person())
    trait = document["components"]["messageTraits"]["cloudEvent"]
    assert trait["headers"]["properties"]["content-type"]["const"] == events.CONTENT_TYPE


def test_a_message_describes_its_own_type_and_payload_only(document):
    validator = message_validator(document, "people.department.created.v1")

    with pytest.raises(ValidationError):
        validator.validate(registered_person())
    without_name = {"type": "people.department.created.v1", "data": {"id": "qa"}}
    wrong_payload = registered_person() | without_name
    with pytest.raises(ValidationError):
        validator.validate(wrong_payload)
