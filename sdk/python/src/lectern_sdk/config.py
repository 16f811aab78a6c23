"""The settings an administrator configured for the plugin (the ``settings``
import of 0.2's activity and observer worlds): the calling institution's,
else the platform's, as a dict (``{}`` when nothing is configured)."""

import json
from typing import Any

from ._world import require

try:
    from wit_world.imports import settings as _settings
except ImportError:  # this world has no settings
    _settings = None


def get() -> dict[str, Any]:
    return json.loads(require(_settings, "settings", "config").get())
