"""The `lifecycle` export every plugin has, for plugins with nothing to do
at start, migration or events (the Rust SDK's ``simple_lifecycle!``):

    from lectern_sdk.lifecycle import simple_lifecycle

    Lifecycle = simple_lifecycle(id="edu.example.quiz", name="Quiz grader", version="0.1.0")

The id and version must match ``lectern.toml``; the kernel checks them at
activation.
"""

from wit_world import exports
from wit_world.exports import lifecycle


def simple_lifecycle(id: str, name: str, version: str, data_version: int = 1) -> type:
    """A ``Lifecycle`` class: ``info`` from the arguments; ``init``,
    ``migrate`` and ``on_event`` do nothing."""

    class Lifecycle(exports.Lifecycle):
        def info(self) -> lifecycle.PluginInfo:
            return lifecycle.PluginInfo(id=id, name=name, version=version, data_version=data_version)

        def init(self) -> None:
            pass

        def migrate(self, from_data_version: int) -> None:
            pass

        def on_event(self, ctx, payload: bytes) -> None:
            pass

    return Lifecycle
