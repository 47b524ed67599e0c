"""The events the strategy service publishes on `strategy.events` (programs, in a later step)."""

from shared.events import EventRegistry

REGISTRY = EventRegistry("strategy")
