"""JSON values in the plugin's private key-value store (the ``kv`` import).

Keys are 1–512 bytes of UTF-8 without NUL; values up to 1 MiB; writes are
durable when the call returns. The kernel scopes every key to the plugin and
the calling institution.

    n = store.get("graded", 0)
    store.put("graded", n + 1)
    store.update("stats", lambda s: {**s, "calls": s.get("calls", 0) + 1}, default={})
"""

import json
from typing import Any, Callable, Optional

from ._world import require
from .errors import conflict

# Imported when the plugin's module is loaded (componentize-py snapshots the
# interpreter then; nothing can be imported from files once the plugin runs).
try:
    from wit_world.imports import kv as _kv_module
except ImportError:  # this world has no kv
    _kv_module = None


def _kv():
    return require(_kv_module, "kv", "store")


def _encode(value: Any) -> bytes:
    # Compact and key-sorted, so equal values have equal bytes (compare-and-swap compares bytes).
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def get(key: str, default: Any = None) -> Any:
    """The JSON value at ``key``, or ``default`` when there is none."""
    raw = _kv().get(key)
    return default if raw is None else json.loads(raw)


def put(key: str, value: Any) -> None:
    """Writes ``value`` as JSON (durable when this returns)."""
    _kv().set(key, _encode(value))


def delete(key: str) -> bool:
    """Deletes ``key``; returns whether it existed."""
    return _kv().delete(key)


def keys(prefix: str = "") -> list[str]:
    """Every key under ``prefix``, in byte order (follows the pages of ``list-keys``)."""
    out: list[str] = []
    after: Optional[str] = None
    while True:
        page = _kv().list_keys(prefix, after, 1000)
        out.extend(page)
        if len(page) < 1000:
            return out
        after = page[-1]


def compare_and_swap(key: str, expected: Any, new: Any) -> bool:
    """Writes ``new`` only if the stored value equals ``expected``.

    ``None`` as ``expected`` means the key is absent; ``None`` as ``new``
    deletes. Returns whether it wrote. Values are compared as this module
    encodes them (compact, sorted keys).
    """
    exp = None if expected is None else _encode(expected)
    nxt = None if new is None else _encode(new)
    return _kv().compare_and_swap(key, exp, nxt)


def update(key: str, change: Callable[[Any], Any], default: Any = None, attempts: int = 16) -> Any:
    """Reads, changes and writes ``key`` with compare-and-swap, retrying on a
    concurrent write; returns the value written. ``change`` must not have
    other effects (it may run more than once)."""
    kv = _kv()
    for _ in range(attempts):
        raw = kv.get(key)
        current = default if raw is None else json.loads(raw)
        new = change(current)
        if kv.compare_and_swap(key, raw, None if new is None else _encode(new)):
            return new
    raise conflict(f"`{key}` kept changing; gave up after {attempts} attempts")
