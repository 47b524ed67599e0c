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

    event_id = "0193a1d2-0000-7000-8000-000000000001"
    event = new_event(
        greeted,
        subject="p1",
        data=Greeting(text="bonjour"),
        event_id=event_id,
        sequence=2,
        request_id="r1",
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
    assert envelope["subjectsequence"] == 2
    assert decoded.data == {"text": "bonjour"}
    assert str(decoded.id) == event_id
    assert (decoded.subject, decoded.subjectsequence, decoded.requestid) == ("p1", 2, "r1")
    assert decoded.time is not None and decoded.time.utcoffset() is not None


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


def envelope(**changes: object) -> bytes:
    """A well-formed event's value, with these attributes changed (None: left out)."""
    attributes = {
        "specversion": "1.0",
        "id": "0193a1d2-0000-7000-8000-000000000001",
        "source": "/services/people",
        "type": "people.person.greeted.v1",
        "subject": "p1",
        "time": "2026-12-04T10:00:00Z",
        "datacontenttype": "application/json",
        "subjectsequence": 1,
        "data": {"text": "bonjour"},
    } | changes
    return json.dumps({k: v for k, v in attributes.items() if v is not None}).encode()


def test_a_well_formed_event_is_read():
    assert decode(envelope()).subjectsequence == 1
    assert decode(envelope(subject=None, subjectsequence=None)).subject is None


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
        envelope(id="not-a-uuid"),
        envelope(subjectsequence=0),
        envelope(subjectsequence="3"),
        envelope(subjectsequence=2.5),
        envelope(subject=None, subjectsequence=1),
        envelope(time="yesterday"),
        envelope(time="2026-12-04T10:00:00"),  # no zone
        envelope(data=None),
    ],
)
def test_anything_else_is_malformed(raw):
    with pytest.raises(MalformedEvent):
        decode(raw)
