"""Which interfaces the plugin's world imports."""

from typing import Any


def require(module: Any, interface: str, helper: str) -> Any:
    """The world's binding for ``interface``, or an error naming what is missing."""
    if module is None:
        raise RuntimeError(
            f"lectern_sdk.{helper} needs the `{interface}` import, which this plugin's world does not have "
            "(see the world in wit/worlds.wit)"
        )
    return module
