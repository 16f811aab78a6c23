"""{{name}}: a Lectern grading plugin in Python (lectern:plugin@0.2.0).

It grades true/false and single-choice questions, sends everything else to
manual grading, and counts what it graded per institution. Build it with
`lectern plugin build`, test it with `lectern plugin test`, package it with
`lectern plugin pack`. The bindings (`wit_world`) are generated from the WIT
in `wit/` when the plugin is built.
"""

from wit_world import exports
from wit_world.exports import grader
from wit_world.imports import types

from lectern_sdk import errors, log, store
from lectern_sdk.lifecycle import simple_lifecycle

Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")


def grade_one(s: grader.Submission) -> grader.Graded:
    q, r = s.question, s.response
    status, fraction = grader.Status.GRADED, 0.0
    if r is None:
        why = "no response"
    elif isinstance(q.key, grader.AnswerKey_TrueFalse) and isinstance(r, grader.Response_Boolean):
        fraction = 1.0 if q.key.value == r.value else 0.0
        why = f"expected {str(q.key.value).lower()}, got {str(r.value).lower()}"
    elif isinstance(q.key, grader.AnswerKey_SingleChoice) and isinstance(r, grader.Response_Choices):
        right = [o.id for o in q.key.value.options if o.correct]
        fraction = 1.0 if r.value == right[:1] else 0.0
        why = f"expected {', '.join(right)}, got {', '.join(r.value) or 'nothing'}"
    elif isinstance(q.key, (grader.AnswerKey_TrueFalse, grader.AnswerKey_SingleChoice)):
        status, why = grader.Status.INVALID_RESPONSE, "the response does not fit the question"
    else:
        status, why = grader.Status.NEEDS_MANUAL_GRADING, "this plugin grades true/false and single choice only"
    return grader.Graded(
        question_id=q.id,
        status=status,
        points=fraction * q.points,
        max_points=q.points,
        raw_fraction=fraction,
        feedback=[],
        explanation=[why],
    )


class Grader(exports.Grader):
    def grade(self, ctx: types.Context, submissions: list[grader.Submission]) -> list[grader.Graded]:
        if len(submissions) > 1000:
            # An error the kernel reports, not a crash: raise one of lectern_sdk.errors.
            raise errors.invalid_input(f"{len(submissions)} submissions in one batch; at most 1000")
        graded = [grade_one(s) for s in submissions]
        store.update("graded", lambda n: n + len(graded), default=0)
        log.info(f"graded {len(graded)} submissions", institution=ctx.institution)
        return graded
