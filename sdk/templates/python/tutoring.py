"""{{name}}: a Lectern tutor in Python (lectern:plugin@0.2.0).

It answers students' questions from their course material, quoting it with
citations. Indexing cuts each document into passages under their headings,
has the kernel embed them (`embed`) and stores them in the kernel's vector
index (`vector`, one collection per course, scoped by the kernel to this
plugin and the institution). Asking embeds the question, finds the closest
passages of the course and answers with the best of them; it declines when
nothing is close enough, and while the student has an assessment open. The
answer is extractive (the passages themselves): connect a language model
yourself if you want generated prose. Build it with `lectern plugin build`,
test it with `lectern plugin test`, package it with `lectern plugin pack`.
"""

import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import tutor
from wit_world.imports import embed, types, vector

from lectern_sdk import errors, store
from lectern_sdk.lifecycle import simple_lifecycle

Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")

PASSAGE_CHARS = 700  # a passage is at most this long (a paragraph is never split)
CANDIDATES = 8
CITATIONS = 3
# Cosine similarity below which a passage is not about the question. Tuned
# for the kernel's built-in lexical embedder; a neural model (MiniLM) scores
# related texts higher: measure with your own material.
MIN_SCORE = 0.12
MAX_QUESTION = 2000


def collection(course: str) -> str:
    return f"course-{course}"


def passages(text: str) -> list[tuple[str, str]]:
    """(heading, passage) pairs: paragraphs joined up to PASSAGE_CHARS under the heading they follow."""
    out, heading, current = [], "", []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", block)
        if m and "\n" not in block:
            if current:
                out.append((heading, "\n\n".join(current)))
            heading, current = m.group(2).strip(), []
            continue
        if current and sum(len(c) for c in current) + len(block) > PASSAGE_CHARS:
            out.append((heading, "\n\n".join(current)))
            current = []
        current.append(block)
    if current:
        out.append((heading, "\n\n".join(current)))
    return out


def metadata(hit) -> dict[str, str]:
    return {f.key: f.value for f in hit.metadata}


def remove(course: str, id: str) -> None:
    ids = store.get(f"doc/{course}/{id}")
    if ids:
        vector.delete(collection(course), ids)
        store.delete(f"doc/{course}/{id}")


class Tutor(exports.Tutor):
    def index_document(self, ctx, doc: tutor.Document) -> int:
        remove(doc.course, doc.id)
        name = collection(doc.course)
        vector.ensure_collection(vector.CollectionSpec(name=name, dimension=embed.dimension(), distance=vector.Distance.COSINE))
        parts = passages(doc.text)
        ids = []
        for start in range(0, len(parts), 64):  # the kernel embeds and stores up to 256 at a time
            batch = parts[start : start + 64]
            vectors = embed.embed([f"{doc.title}\n{heading}\n{body}" for heading, body in batch])
            points = []
            for n, ((heading, body), v) in enumerate(zip(batch, vectors), start):
                ids.append(f"{doc.id}#{n}")
                fields = {"document": doc.id, "item": doc.item, "title": doc.title, "heading": heading, "$text": body}
                points.append(vector.Point(id=ids[-1], vector=v, metadata=[types.Field(key=k, value=value) for k, value in fields.items()]))
            vector.upsert(name, points)
        store.put(f"doc/{doc.course}/{doc.id}", ids)
        return len(ids)

    def remove_document(self, ctx, id: str) -> None:
        if ctx.course is None:
            raise errors.invalid_input("remove-document needs the course in the call's context")
        remove(ctx.course, id)

    def ask(self, ctx, q: tutor.Question) -> tutor.Answer:
        if q.open_assessment is not None:
            return tutor.Answer(
                text="",
                citations=[],
                refusal=f"The tutor is paused while you have “{q.open_assessment.title}” open; it is back once you submit.",
            )
        question = q.text.strip()
        if not question or len(question) > MAX_QUESTION:
            raise errors.invalid_input(f"a question is 1–{MAX_QUESTION} characters")
        # A short follow-up ("and why?") is searched with the question before it.
        search = f"{q.history[-1].question}\n{question}" if q.history and len(question.split()) < 4 else question
        [v] = embed.embed([search])
        try:
            hits = vector.query(collection(q.course), v, CANDIDATES, None)
        except Err as e:
            if not isinstance(e.value, types.Error_NotFound):
                raise
            hits = []  # the course has no collection yet: nothing indexed
        hits = [h for h in hits if h.score >= MIN_SCORE][:CITATIONS]
        if not hits:
            return tutor.Answer(text="", citations=[], refusal="I could not find this in the course material.")
        citations = []
        for h in hits:
            m = metadata(h)
            citations.append(
                tutor.Citation(
                    document_id=m["document"],
                    item=m["item"],
                    title=m["title"],
                    heading=m["heading"] or None,
                    anchor=None,  # the kernel finds the heading's anchor in the page it renders
                    excerpt=m["$text"],
                    score=h.score,
                )
            )
        best = citations[0]
        where = f"“{best.title}”" + (f", {best.heading}" if best.heading else "")
        return tutor.Answer(text=f"From {where}:\n\n{best.excerpt}", citations=citations, refusal=None)
