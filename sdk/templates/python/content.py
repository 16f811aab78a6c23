"""{{name}}: a Lectern content engine in Python (lectern:plugin@0.2.0).

It renders course pages from Markdown (CommonMark and tables, with
markdown-it-py from PyPI: raw HTML in the source is shown as text, and
links to `javascript:`, `vbscript:`, `file:` and `data:` are dropped),
gives every heading a unique anchor for the table of contents, and decides
what each course item looks like to a student: hidden until its release
time, locked until its prerequisites are met. Build it with `lectern plugin
build`, test it with `lectern plugin test`, package it with `lectern plugin
pack`.

The page's HTML goes to browsers as it is: whatever you change, keep it free
of scripts, event handlers and `javascript:` URLs.
"""

import math
import time

from markdown_it import MarkdownIt

from wit_world import exports
from wit_world.exports import content

from lectern_sdk.lifecycle import simple_lifecycle

Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")

# Built once, when the module loads (componentize-py snapshots it then).
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
WORDS_PER_MINUTE = 200


PUNCTUATION = set("!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~")  # ASCII, but `-` and `_`


def slug(text: str) -> str:
    """GitHub-style: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in text.strip().lower() if c not in PUNCTUATION)
    return kept.replace(" ", "-") or "section"


def plain(inline) -> str:
    return "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline"))


class Content(exports.Content):
    def render_markdown(self, ctx, source: str) -> content.RenderedPage:
        tokens = MARKDOWN.parse(source)
        toc, taken, texts = [], set(), []
        for i, token in enumerate(tokens):
            if token.type == "inline":
                texts.append(plain(token))
            elif token.type in ("fence", "code_block"):
                texts.append(token.content)
            if token.type != "heading_open":
                continue
            text = plain(tokens[i + 1])
            anchor, n = slug(text), 0
            while anchor in taken:
                n += 1
                anchor = f"{slug(text)}-{n}"
            taken.add(anchor)
            token.attrSet("id", anchor)
            toc.append(content.Heading(level=int(token.tag[1]), text=text, anchor=anchor))
        text = "\n".join(t for t in texts if t)
        words = len(text.split())
        return content.RenderedPage(
            html=MARKDOWN.renderer.render(tokens, MARKDOWN.options, {}),
            toc=toc,
            words=words,
            reading_minutes=math.ceil(words / WORDS_PER_MINUTE),
            text=text,
        )

    def item_visibility(self, ctx, modules, progress, now_ms: int) -> list[content.Visibility]:
        completed = {p.item_id for p in progress if p.completed}
        best: dict[str, float] = {}
        for p in progress:
            if p.score is not None and not math.isnan(p.score):
                best[p.item_id] = max(p.score, best.get(p.item_id, p.score))
        titles: dict[str, str] = {}
        for module in modules:
            for item in module.items:
                titles.setdefault(item.id, item.title)

        def unmet(req) -> str | None:
            item_id = req.value if isinstance(req, content.Prerequisite_Completed) else req.value[0]
            title = titles.get(item_id)
            if title is None:
                return f"requires item `{item_id}`, which is not in this course (ask your instructor)"
            if isinstance(req, content.Prerequisite_Completed):
                return None if item_id in completed else f'complete "{title}" first'
            minimum = req.value[1]
            if item_id in best and best[item_id] >= minimum:
                return None
            so_far = f"best so far: {best[item_id]:.0%}" if item_id in best else "no score yet"
            return f'score at least {minimum:.0%} on "{title}" ({so_far})'

        out = []
        for module in modules:
            for item in module.items:
                opens = max((t for t in (module.release_at_ms, item.release_at_ms) if t is not None), default=None)
                if opens is not None and opens > now_ms:
                    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(opens / 1000))
                    out.append(content.Visibility(item_id=item.id, visible=False, locked=True, reason=f"opens {when}"))
                    continue
                reasons = [r for r in (unmet(p) for p in item.prerequisites) if r]
                out.append(
                    content.Visibility(
                        item_id=item.id, visible=True, locked=bool(reasons), reason="; ".join(reasons) or None
                    )
                )
        return out
