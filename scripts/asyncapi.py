"""Writes docs/asyncapi.yaml, the AsyncAPI 3.0 document of every topic and event type.

    make asyncapi        (or: uv run python scripts/asyncapi.py)

It reads the event registries of the services present in the workspace (each directory of
services/ with a pyproject.toml): `<service>.events.REGISTRY` for what a service publishes,
`<service>.handlers.HANDLERS` for what it consumes. tests/unit/deploy/test_asyncapi.py
checks that the file in the repository is what this script writes.
"""

import copy
import importlib
import sys
from pathlib import Path
from typing import Any

import yaml

from shared import events
from shared.consumer import dlq_topic
from shared.events import EventRegistry, EventType

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "asyncapi.yaml"
KAFKA_BINDING_VERSION = "0.5.0"

ENVELOPE_DESCRIPTION = """\
Every service publishes its events on its own topic, `<service>.events`, from a transactional
outbox: an event is written in the same database transaction as the change it describes, then
relayed to Kafka. Delivery is at least once, in order per aggregate.

Each Kafka message is one CloudEvents 1.0 event in structured JSON mode:

- the value is the whole event (`specversion`, `id`, `source`, `type`, `subject`, `time`,
  `datacontenttype`, `data`, and the extensions `subjectsequence`, the event's place among the
  events about its subject, and `requestid`, the id of the HTTP request that caused it);
- the key is the aggregate id, which is also the event's `subject`: the events of one
  aggregate share a partition, so they are read in the order they were written;
- the header `content-type` is `application/cloudevents+json`.

Types read `<service>.<aggregate>.<verb>.v<n>`. A change that would break a consumer is a new
type (`.v2`) published beside the old one; fields may be added to a version at any time, and
consumers ignore what they do not read.

Consumers are idempotent: each records the ids it applied in the same transaction as their
effects, so an event delivered twice changes nothing the second time. They apply the events
about one subject in `subjectsequence` order: one read ahead of an earlier one (a broker that
lost its log can deliver them so) waits for it. A message a consumer can
never apply (malformed, an unknown version of a type it reads, an invalid payload, a failing
handler) goes unchanged to `<topic>.dlq`, with headers saying why, and the partition moves on.
"""

CLOUD_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A CloudEvents 1.0 event in structured JSON mode: the whole Kafka value.",
    "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
    "properties": {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique per event (a UUIDv7): consumers drop an id already applied.",
        },
        "source": {
            "type": "string",
            "description": "The publishing service: `/services/<service>`.",
        },
        "type": {
            "type": "string",
            "pattern": events.TYPE_PATTERN.pattern,
            "description": "`<service>.<aggregate>.<verb>.v<n>`.",
        },
        "subject": {
            "type": "string",
            "description": "The aggregate id, also the message key.",
        },
        "time": {"type": "string", "format": "date-time", "description": "When it happened."},
        "datacontenttype": {"type": "string", "const": "application/json"},
        "subjectsequence": {
            "type": "integer",
            "minimum": 1,
            "description": "The event's place among the events about its subject: 1, 2, 3... "
            "(two writes of one subject that raced may share a number).",
        },
        "requestid": {
            "type": "string",
            "description": "The X-Request-ID of the request that caused the event, if any.",
        },
        "data": {"type": "object", "description": "The payload: see each event type."},
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content-type": {"type": "string", "description": "The original header, if any."},
        "dlq-reason": {
            "type": "string",
            "enum": ["malformed", "unknown-version", "invalid-payload", "handler-failed"],
        },
        "dlq-error": {"type": "string", "description": "What went wrong (1000 characters)."},
        "dlq-topic": {"type": "string", "description": "The topic the message was read from."},
        "dlq-partition": {"type": "string"},
        "dlq-offset": {"type": "string"},
        "dlq-consumer-group": {"type": "string", "description": "The group that gave it up."},
    },
}


def workspace_services() -> list[str]:
    """The services present: each directory of services/ with a pyproject.toml."""
    return sorted(
        path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
    )


def published(service: str) -> EventRegistry:
    _importable(service)
    return importlib.import_module(f"{service}.events").REGISTRY


def consumed(service: str) -> list[str]:
    """The event types the service has a handler for (none without a handlers module)."""
    _importable(service)
    try:
        module = importlib.import_module(f"{service}.handlers")
    except ModuleNotFoundError as error:
        if error.name != f"{service}.handlers":
            raise
        return []
    return list(module.HANDLERS)


def _importable(service: str) -> None:
    # A service not yet installed in the environment is read from its sources.
    source = str(ROOT / "services" / service)
    if source not in sys.path:
        sys.path.append(source)


def document(services: list[str]) -> dict[str, Any]:
    registries = {service: published(service) for service in services}
    publishers = {registry.topic: service for service, registry in registries.items()}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": CLOUD_EVENT_SCHEMA}
    messages: dict[str, Any] = {"DeadLetter": _dead_letter_message()}

    for service, registry in registries.items():
        topic = registry.topic
        types = list(registry)
        channels[topic] = {
            "address": topic,
            "title": topic,
            "description": f"What the {service} service publishes. Key: the aggregate id.",
            "messages": {t.name: {"$ref": f"#/components/messages/{t.name}"} for t in types},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        channels[dlq_topic(topic)] = {
            "address": dlq_topic(topic),
            "title": dlq_topic(topic),
            "description": f"Messages of {topic} that a consumer could never apply.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": {
                "kafka": {"topic": dlq_topic(topic), "bindingVersion": KAFKA_BINDING_VERSION}
            },
        }
        operations[f"{service}-publishes"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "title": f"The {service} service publishes",
            "summary": "Its outbox relay publishes each event committed with a change.",
            "messages": [{"$ref": f"#/channels/{topic}/messages/{t.name}"} for t in types],
        }
        for event_type in types:
            schemas[event_type.name] = _payload_schema(event_type)
            messages[event_type.name] = _message(event_type)

    for service in services:
        by_topic: dict[str, list[str]] = {}
        for name in consumed(service):
            topic = f"{name.split('.', 1)[0]}.events"
            if name in messages and topic in publishers:
                by_topic.setdefault(topic, []).append(name)
        for topic, names in sorted(by_topic.items()):
            operations[f"{service}-receives-{topic}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{topic}"},
                "title": f"The {service} service reads {topic}",
                "summary": f"In its consumer group; unusable messages go to {dlq_topic(topic)}.",
                "messages": [{"$ref": f"#/channels/{topic}/messages/{n}"} for n in names],
            }
            operations[f"{service}-dead-letters-{topic}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{dlq_topic(topic)}"},
                "title": f"The {service} service gives up messages of {topic}",
                "messages": [{"$ref": f"#/channels/{dlq_topic(topic)}/messages/DeadLetter"}],
            }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Agora events",
            "version": "1.0.0",
            "description": ENVELOPE_DESCRIPTION,
        },
        "defaultContentType": events.CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "The platform's broker: KAFKA_BOOTSTRAP_SERVERS.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "messageTraits": {"cloudEvent": _cloud_event_trait()},
        },
    }


def _payload_schema(event_type: EventType) -> dict[str, Any]:
    """The payload's JSON Schema, its references made to point inside this document."""
    prefix = f"#/components/schemas/{event_type.name}"
    return _rebase(copy.deepcopy(event_type.json_schema()), prefix)


def _rebase(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                prefix + value[1:]
                if key == "$ref" and isinstance(value, str) and value.startswith("#/")
                else _rebase(value, prefix)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item, prefix) for item in node]
    return node


def _message(event_type: EventType) -> dict[str, Any]:
    return {
        "name": event_type.name,
        "title": event_type.name,
        "summary": event_type.description,
        "contentType": events.CONTENT_TYPE,
        "traits": [{"$ref": "#/components/messageTraits/cloudEvent"}],
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": event_type.name},
                        "source": {"const": f"/services/{event_type.service}"},
                        "data": {"$ref": f"#/components/schemas/{event_type.name}"},
                    },
                },
            ]
        },
    }


def _cloud_event_trait() -> dict[str, Any]:
    return {
        "headers": {
            "type": "object",
            "required": ["content-type"],
            "properties": {"content-type": {"type": "string", "const": events.CONTENT_TYPE}},
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The aggregate id (the event's subject).",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "A message a consumer gave up",
        "summary": "The original key and value, unchanged, with headers saying why.",
        "headers": DEAD_LETTER_HEADERS,
        "payload": {"description": "The original message value, byte for byte."},
    }


class _Dumper(yaml.SafeDumper):
    """Writes text of several lines as a block, to be read as written."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def render(services: list[str] | None = None) -> str:
    generated = document(services if services is not None else workspace_services())
    header = "# Generated by scripts/asyncapi.py (`make asyncapi`) from the event registries.\n"
    body = yaml.dump(generated, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main() -> None:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
