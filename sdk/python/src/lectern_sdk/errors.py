"""Returning an error without trapping.

An exported function returns the WIT ``error`` variant by raising
``componentize_py_types.Err(...)`` with one of its cases. Any other
exception traps the instance: the kernel reports a fault (HTTP 502 for an
activity or a question, a retry for grading) and keeps nothing of the call.

    from lectern_sdk import errors
    raise errors.invalid_input("`max` must be greater than `min`")

Errors raised by the kernel's services (``kv``, ``events`` …) are the same
``Err`` exception; let them propagate to return them unchanged, or catch
``Err`` and look at ``e.value``.
"""

from componentize_py_types import Err
from wit_world.imports import types


def _error(case: str, message: str) -> Err:
    return Err(getattr(types, case)(message))


def invalid_input(message: str) -> Err:
    """The input does not fit (shown to the author or learner where there is one)."""
    return _error("Error_InvalidInput", message)


def not_found(message: str) -> Err:
    return _error("Error_NotFound", message)


def denied(message: str) -> Err:
    return _error("Error_Denied", message)


def conflict(message: str) -> Err:
    return _error("Error_Conflict", message)


def quota_exceeded(message: str) -> Err:
    return _error("Error_QuotaExceeded", message)


def unavailable(message: str) -> Err:
    """Something the plugin needs is down; the kernel may retry."""
    return _error("Error_Unavailable", message)


def internal(message: str) -> Err:
    return _error("Error_Internal", message)


def message(err: Err) -> str:
    """The text of an ``Err`` raised by a kernel service."""
    return getattr(err.value, "value", str(err.value))
