"""Wall-clock time through the kernel (the ``clock`` import of the worlds
that have one). Grading and question-type worlds have no clock: there
``time.time()`` returns 0, on purpose, so grading is reproducible."""


from ._world import require

try:
    from wit_world.imports import clock as _clock
except ImportError:  # this world has no clock
    _clock = None


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return require(_clock, "clock", "clock").now_ms()
