"""Publishing on the kernel's event bus (the ``events`` import), on topics
the plugin's manifest declares (``[capabilities] publish``)."""

import json
from typing import Any

from ._world import require

try:
    from wit_world.imports import events as _events
except ImportError:  # this world has no events
    _events = None


def publish(topic: str, key: str, payload: bytes) -> None:
    """Publishes raw bytes; events with the same ``key`` are delivered in order."""
    require(_events, "events", "events").publish(topic, key, payload)


def publish_json(topic: str, key: str, value: Any) -> None:
    """Publishes ``value`` as JSON."""
    publish(topic, key, json.dumps(value, separators=(",", ":")).encode())
