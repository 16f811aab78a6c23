"""{{name}}: a Lectern observer in Python (lectern:plugin@0.2.0).

It watches the grades recorded in each course (`grade.recorded`) and
notices a learner who is falling behind: after `streak` low grades in a row
(below `low_fraction` of the points), it publishes `learner.at-risk` once,
for a webhook, an email rule or another plugin to act on; a good grade
resets the streak. Per course it keeps how many grades it saw and their mean.
The administrator sets the two numbers in the plugin's settings:

    {"low_fraction": 0.5, "streak": 3}

Delivery is at least once: an event that comes again (same message id)
changes nothing. Build it with `lectern plugin build`, test it with
`lectern plugin test`, package it with `lectern plugin pack`.
"""

import json

from lectern_sdk import config, errors, events, log, store
from lectern_sdk.lifecycle import simple_lifecycle

DEFAULTS = {"low_fraction": 0.5, "streak": 3}
REMEMBERED = 256  # message ids kept per record, to drop redeliveries

Base = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")


def remember(seen: list[str], message_id: str) -> list[str]:
    return (seen + [message_id])[-REMEMBERED:]


class Lifecycle(Base):
    def on_event(self, ctx, payload: bytes) -> None:
        if ctx.topic != "grade.recorded":
            return
        try:
            grade = json.loads(payload)
            course, learner = grade["course"], grade["student"]
            fraction = grade["points"] / grade["max_points"] if grade["max_points"] > 0 else 1.0
        except (ValueError, KeyError, TypeError, ZeroDivisionError) as e:
            raise errors.invalid_input(f"not a grade.recorded payload ({e!r})")
        settings = {**DEFAULTS, **config.get()}

        # The course's figures: a read-modify-write that retries when another delivery wrote first.
        def count(c):
            if ctx.message_id in c["seen"]:
                return c
            mean = (c["mean"] * c["grades"] + fraction) / (c["grades"] + 1)
            return {"grades": c["grades"] + 1, "mean": mean, "seen": remember(c["seen"], ctx.message_id)}

        store.update(f"course/{course}", count, default={"grades": 0, "mean": 0.0, "seen": []})

        key = f"learner/{course}/{learner}"
        before = store.get(key)
        state = before or {"streak": 0, "flagged": False, "seen": []}
        if ctx.message_id in state["seen"]:
            return  # delivered again: already counted
        streak = state["streak"] + 1 if fraction < settings["low_fraction"] else 0
        flagged = state["flagged"] and streak > 0
        if streak >= settings["streak"] and not flagged:
            # Published before the state is written: after a crash in between, the
            # redelivery publishes again (at least once), never not at all.
            events.publish_json(
                "learner.at-risk",
                learner,
                {"course": course, "learner": learner, "low_grades_in_a_row": streak, "last_item": grade.get("item")},
            )
            log.warn("learner at risk", course=course, learner=learner, streak=streak)
            flagged = True
        after = {"streak": streak, "flagged": flagged, "seen": remember(state["seen"], ctx.message_id)}
        if not store.compare_and_swap(key, before, after):
            # Another grade of this learner was counted meanwhile: the kernel delivers this one again.
            raise errors.conflict(f"{key} changed during the call")
