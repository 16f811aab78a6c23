// {{name}}: a Lectern content engine in JavaScript (lectern:plugin@0.2.0).
//
// It renders course pages from Markdown (CommonMark and tables, with
// markdown-it from npm: raw HTML in the source is shown as text, and links to
// `javascript:`, `vbscript:`, `file:` and `data:` are dropped), gives every
// heading a unique anchor for the table of contents, and decides what each
// course item looks like to a student: hidden until its release time, locked
// until its prerequisites are met. Build it with `lectern plugin build`, test
// it with `lectern plugin test`, package it with `lectern plugin pack`.
//
// The page's HTML goes to browsers as it is: whatever you change, keep it free
// of scripts, event handlers and `javascript:` URLs.

import MarkdownIt from 'markdown-it';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

const MARKDOWN = new MarkdownIt('commonmark', { html: false }).enable('table');
const WORDS_PER_MINUTE = 200;

// ASCII punctuation but `-` and `_` (StarlingMonkey has no Unicode property escapes such as \p{P}).
const PUNCTUATION = '!"#$%&\'()*+,./:;<=>?@[\\]^`{|}~';

/** GitHub-style: lower case, punctuation dropped, spaces to hyphens. @param {string} text */
const slug = (text) =>
  [...text.trim().toLowerCase()]
    .filter((c) => !PUNCTUATION.includes(c))
    .join('')
    .replace(/ /g, '-') || 'section';

/** @param {any} inline @returns {string} */
const plain = (inline) =>
  (inline.children ?? [])
    .filter((/** @type {any} */ c) => c.type === 'text' || c.type === 'code_inline')
    .map((/** @type {any} */ c) => c.content)
    .join('');

/** @param {number} f */
const percent = (f) => `${Math.round(f * 100)}%`;

/** @type {typeof import('lectern:plugin/content@0.2.0')} */
export const content = {
  renderMarkdown(ctx, source) {
    const tokens = MARKDOWN.parse(source, {});
    /** @type {import('lectern:plugin/content@0.2.0').Heading[]} */
    const toc = [];
    const taken = new Set();
    /** @type {string[]} */
    const texts = [];
    tokens.forEach((token, i) => {
      if (token.type === 'inline') texts.push(plain(token));
      else if (token.type === 'fence' || token.type === 'code_block') texts.push(token.content);
      if (token.type !== 'heading_open') return;
      const text = plain(tokens[i + 1]);
      let anchor = slug(text);
      for (let n = 1; taken.has(anchor); n++) anchor = `${slug(text)}-${n}`;
      taken.add(anchor);
      token.attrSet('id', anchor);
      toc.push({ level: Number(token.tag.slice(1)), text, anchor });
    });
    const text = texts.filter((t) => t).join('\n');
    const words = text.split(/\s+/).filter((w) => w).length;
    return {
      html: MARKDOWN.renderer.render(tokens, MARKDOWN.options, {}),
      toc,
      words,
      readingMinutes: Math.ceil(words / WORDS_PER_MINUTE),
      text,
    };
  },

  itemVisibility(ctx, modules, progress, nowMs) {
    const completed = new Set(progress.filter((p) => p.completed).map((p) => p.itemId));
    /** @type {Map<string, number>} */
    const best = new Map();
    for (const p of progress) {
      if (p.score !== undefined && !Number.isNaN(p.score)) best.set(p.itemId, Math.max(p.score, best.get(p.itemId) ?? p.score));
    }
    /** @type {Map<string, string>} */
    const titles = new Map();
    for (const m of modules) for (const item of m.items) if (!titles.has(item.id)) titles.set(item.id, item.title);

    /** @param {import('lectern:plugin/content@0.2.0').Prerequisite} req @returns {string | undefined} */
    const unmet = (req) => {
      const itemId = req.tag === 'completed' ? req.val : req.val[0];
      const title = titles.get(itemId);
      if (title === undefined) return `requires item \`${itemId}\`, which is not in this course (ask your instructor)`;
      if (req.tag === 'completed') return completed.has(itemId) ? undefined : `complete "${title}" first`;
      const minimum = req.val[1];
      const score = best.get(itemId);
      if (score !== undefined && score >= minimum) return undefined;
      const soFar = score !== undefined ? `best so far: ${percent(score)}` : 'no score yet';
      return `score at least ${percent(minimum)} on "${title}" (${soFar})`;
    };

    /** @type {import('lectern:plugin/content@0.2.0').Visibility[]} */
    const out = [];
    for (const m of modules) {
      for (const item of m.items) {
        // u64 values are BigInts in JavaScript.
        /** @type {bigint | undefined} */
        let opens;
        for (const t of [m.releaseAtMs, item.releaseAtMs]) if (t !== undefined && (opens === undefined || t > opens)) opens = t;
        if (opens !== undefined && opens > nowMs) {
          const when = new Date(Number(opens)).toISOString().slice(0, 16).replace('T', ' ');
          out.push({ itemId: item.id, visible: false, locked: true, reason: `opens ${when} UTC` });
          continue;
        }
        const reasons = item.prerequisites.map(unmet).filter((r) => r !== undefined);
        out.push({ itemId: item.id, visible: true, locked: reasons.length > 0, reason: reasons.join('; ') || undefined });
      }
    }
    return out;
  },
};
