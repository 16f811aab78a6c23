"""Structured logging into the kernel's log, tagged with the plugin and the request.

    log.info("graded a batch", count=str(n))

Fields are strings (the kernel's log keeps them as key/value pairs). What a
plugin prints to stdout or stderr is dropped; use this instead.
"""

from typing import Any

from wit_world.imports import log as wit_log
from wit_world.imports import types


def _log(level_name: str, message: str, fields: dict[str, Any]) -> None:
    level = getattr(wit_log.Level, level_name)
    wit_log.log(level, message, [types.Field(key=k, value=str(v)) for k, v in fields.items()])


def trace(message: str, **fields: Any) -> None:
    _log("TRACE", message, fields)


def debug(message: str, **fields: Any) -> None:
    _log("DEBUG", message, fields)


def info(message: str, **fields: Any) -> None:
    _log("INFO", message, fields)


def warn(message: str, **fields: Any) -> None:
    _log("WARN", message, fields)


def error(message: str, **fields: Any) -> None:
    _log("ERROR", message, fields)
