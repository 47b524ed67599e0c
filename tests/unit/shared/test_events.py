"""The CloudEvents envelope and the registry of event types."""

import json

import pytest
from pydantic import BaseModel

from shared.events import EventRegistry, MalformedEvent, decode, encode, new_event


class Greeting(BaseModel):
    text: str


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry("people")


def test_an_event_round_trips_in_structured_json_mode(registry):
    greeted = registry.register("people.person.greeted.v1", Greeting, "Someone was greeted.")

    event = new_event(
        greeted, subject="p1", data=Greeting(text="bonjour"), event_id="e1", request_id="r1"
    )
    raw = encode(event)
    decoded = decode(raw)

    envelope = json.loads(raw)
    assert envelope["specversion"] == "1.0"
    assert envelope["source"] == "/services/people"
    assert envelope["type"] == "people.person.greeted.v1"
    assert envelope["subject"] == "p1"
    assert envelope["requestid"] == "r1"
    assert envelope["datacontenttype"] == "application/json"
    assert envelope["time"].endswith("Z") or envelope["time"].endswith("+00:00")
    assert decoded.get_data() == {"text": "bonjour"}
    assert decoded.get_id() == "e1"


def test_an_event_must_carry_its_declared_payload(registry):
    greeted = registry.register("people.person.greeted.v1", Greeting, "Someone was greeted.")

    class Farewell(BaseModel):
        text: str

    with pytest.raises(TypeError):
        new_event(greeted, subject="p1", data=Farewell(text="au revoir"), event_id="e1")


@pytest.mark.parametrize(
    "name",
    [
        "people.person.greeted",
        "people.person.greeted.v",
        "communities.person.greeted.v1",
        "people.Person.greeted.v1",
        "people.person.v1",
    ],
)
def test_the_registry_refuses_names_outside_the_convention(registry, name):
    with pytest.raises(ValueError):
        registry.register(name, Greeting, "x")


def test_the_registry_refuses_a_type_twice_and_lists_schemas(registry):
    registry.register("people.person.greeted.v1", Greeting, "x")

    with pytest.raises(ValueError):
        registry.register("people.person.greeted.v1", Greeting, "y")
    [event_type] = list(registry)
    assert event_type.topic == "people.events"
    assert event_type.json_schema()["properties"]["text"]["type"] == "string"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        json.dumps({"id": "1", "type": "people.person.greeted.v1"}).encode(),
        json.dumps(
            {"specversion": "1.0", "id": "1", "source": "/s", "type": "nodots", "data": {}}
        ).encode(),
        json.dumps(
            {"specversion": "1.0", "id": "1", "source": "/s", "type": "a.b.c.v1", "data": "text"}
        ).encode(),
        json.dumps(
            {"specversion": "0.3", "id": "1", "source": "/s", "type": "a.b.c.v1", "data": {}}
        ).encode(),
    ],
)
def test_anything_else_is_malformed(raw):
    with pytest.raises(MalformedEvent):
        decode(raw)
