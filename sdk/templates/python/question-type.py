"""{{name}}: a Lectern question type in Python (lectern:plugin@0.2.0).

One type, `arithmetic`: each attempt draws two whole numbers from the
kernel's seed and asks for their sum or product. Build it with
`lectern plugin build`, test it with `lectern plugin test`, package it with
`lectern plugin pack`. Grading worlds have no clock, no kv and a fuel budget:
the same question, instance and response always give the same result.
"""

import html
import json
import re

from wit_world import exports
from wit_world.exports import question_type
from wit_world.imports import types

from lectern_sdk import errors
from lectern_sdk.lifecycle import simple_lifecycle

TYPE = "arithmetic"
MASK = (1 << 64) - 1

SETTINGS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "operation": {"enum": ["add", "multiply"], "default": "add"},
        "min": {"type": "integer", "minimum": -1000000, "maximum": 1000000, "default": 1},
        "max": {"type": "integer", "minimum": -1000000, "maximum": 1000000, "default": 12},
    },
}
RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["answer"],
    "additionalProperties": False,
    "properties": {"answer": {"type": "string", "maxLength": 32}},
}


def splitmix64(state: int) -> tuple[int, int]:
    """The next (state, value): the same sequence as the JavaScript template."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def settings_of(q: question_type.Question) -> tuple[str, int, int]:
    if q.type_id != TYPE:
        raise errors.invalid_input(f"this plugin has no question type `{q.type_id}`")
    s = json.loads(q.settings)
    low, high = s.get("min", 1), s.get("max", 12)
    if low > high:
        raise errors.invalid_input("`min` must not be greater than `max`")
    return s.get("operation", "add"), low, high


def whole_number(text: str):
    # ASCII digits only, as the JavaScript template (Python's int() also takes "4_2" and other scripts' digits).
    t = text.strip()
    return int(t) if re.fullmatch(r"[+-]?[0-9]+", t) else None


Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")


class QuestionType(exports.QuestionType):
    def types(self) -> list[question_type.TypeInfo]:
        return [
            question_type.TypeInfo(
                id=TYPE,
                name="Arithmetic drill",
                description="Two whole numbers drawn for each attempt, added or multiplied.",
                settings_schema=json.dumps(SETTINGS_SCHEMA),
                response_schema=json.dumps(RESPONSE_SCHEMA),
            )
        ]

    def instantiate(self, ctx: types.Context, q: question_type.Question, seed: int) -> question_type.Instance:
        op, low, high = settings_of(q)
        span = high - low + 1
        state, x = splitmix64(seed)
        _, y = splitmix64(state)
        a, b = low + x % span, low + y % span
        answer = a + b if op == "add" else a * b
        sign = "+" if op == "add" else "×"
        view = types.View(
            html=f"<p>What is {a} {html.escape(sign)} {b}?</p>"
            '<label>Your answer <input name="answer" type="text" inputmode="numeric" autocomplete="off" maxlength="32"></label>',
            assets=[],
        )
        return question_type.Instance(data=json.dumps({"a": a, "b": b, "answer": answer}), view=view)

    def validate(self, ctx: types.Context, q: question_type.Question, instance: str, response: str) -> None:
        answer = json.loads(response).get("answer", "")
        if answer.strip() and whole_number(answer) is None:
            # Shown to the student; nothing is saved.
            raise errors.invalid_input("Write a whole number, like 42.")

    def grade(self, ctx: types.Context, items: list[question_type.ToGrade]) -> list[question_type.Graded]:
        out = []
        for item in items:
            expected = json.loads(item.instance).get("answer")
            given = whole_number(json.loads(item.response).get("answer", "")) if item.response else None
            fraction = 1.0 if given is not None and given == expected else 0.0
            out.append(
                question_type.Graded(
                    question_id=item.question.id,
                    status=question_type.Status.GRADED,
                    fraction=fraction,
                    feedback=[],
                    explanation=[f"expected {expected}, got {'nothing' if given is None else given}"],
                )
            )
        return out
