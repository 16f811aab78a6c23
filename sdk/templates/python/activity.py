"""{{name}}: a Lectern activity in Python (lectern:plugin@0.2.0).

One kind, `checklist`: the instructor lists steps; each learner ticks them
off; the score is the share of steps done, and the item is complete when
every step is. The learner's state (which steps are done) is kept by the
kernel, per item and learner. Build it with `lectern plugin build`, test it
with `lectern plugin test`, package it with `lectern plugin pack`.
"""

import html
import json

from wit_world import exports
from wit_world.exports import activity
from wit_world.imports import gradebook, types

from lectern_sdk import errors
from lectern_sdk.lifecycle import simple_lifecycle

KIND = "checklist"
SETTINGS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["steps"],
    "additionalProperties": False,
    "properties": {
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {"type": "string", "minLength": 1, "maxLength": 300},
            "description": "What the learner does, one step per line.",
        }
    },
}


def steps_of(item: activity.Item) -> list[str]:
    if item.kind != KIND:
        raise errors.invalid_input(f"this plugin has no activity kind `{item.kind}`")
    return json.loads(item.settings)["steps"]


def done_of(state, count: int) -> set[int]:
    if state is None:
        return set()
    return {i for i in json.loads(state.data) if 0 <= i < count}


def view(steps: list[str], done: set[int]) -> types.View:
    rows = "".join(
        f'<li><form><input type="hidden" name="step" value="{i}">'
        f'<button data-action="toggle" aria-pressed="{"true" if i in done else "false"}">'
        f'{"Done" if i in done else "To do"}</button> {html.escape(step)}</form></li>'
        for i, step in enumerate(steps)
    )
    summary = f'<p class="progress">{len(done)} of {len(steps)} steps done</p>'
    return types.View(html=f"<ol>{rows}</ol>{summary}", assets=[])


Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")


class Activity(exports.Activity):
    def kinds(self) -> list[activity.ActivityKind]:
        return [
            activity.ActivityKind(
                id=KIND,
                name="Checklist",
                description="Steps each learner ticks off; scored by the share done, complete when all are.",
                settings_schema=json.dumps(SETTINGS_SCHEMA),
                graded=True,
            )
        ]

    def render(self, ctx: types.Context, item: activity.Item, state) -> types.View:
        steps = steps_of(item)
        return view(steps, done_of(state, len(steps)))

    def render_settings(self, ctx: types.Context, kind: str, settings):
        # The kernel builds the form from the settings schema.
        return None

    def act(self, ctx: types.Context, item: activity.Item, state, action: activity.Action) -> activity.Outcome:
        steps = steps_of(item)
        done = done_of(state, len(steps))
        before = len(done)
        if action.name == "toggle":
            step = json.loads(action.payload).get("step", "")
            if not step.isdigit() or int(step) >= len(steps):
                raise errors.invalid_input(f"no step {step!r}")
            done ^= {int(step)}
        elif action.name == "reset":
            done = set()
        else:
            raise errors.invalid_input(f"no action `{action.name}`")
        if ctx.user is not None and len(done) != before:
            gradebook.record_score(
                gradebook.Score(
                    learner=ctx.user,
                    points=float(len(done)),
                    max_points=float(len(steps)),
                    feedback=f"{len(done)} of {len(steps)} steps done",
                )
            )
            if len(done) == len(steps):
                gradebook.mark_complete(ctx.user)
        message = "Every step done: the activity is complete." if len(done) == len(steps) else None
        return activity.Outcome(
            state=json.dumps(sorted(done)).encode(), view=view(steps, done), message=message
        )
