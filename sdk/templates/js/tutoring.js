// {{name}}: a Lectern tutor in JavaScript (lectern:plugin@0.2.0).
//
// It answers students' questions from their course material, quoting it with
// citations. Indexing cuts each document into passages under their headings,
// has the kernel embed them (`embed`) and stores them in the kernel's vector
// index (`vector`, one collection per course, scoped by the kernel to this
// plugin and the institution). Asking embeds the question, finds the closest
// passages of the course and answers with the best of them; it declines when
// nothing is close enough, and while the student has an assessment open. The
// answer is extractive (the passages themselves): connect a language model
// yourself if you want generated prose. Build it with `lectern plugin build`,
// test it with `lectern plugin test`, package it with `lectern plugin pack`.

import * as embed from 'lectern:plugin/embed@0.2.0';
import * as vector from 'lectern:plugin/vector@0.2.0';
import * as errors from '@lectern/sdk/errors';
import * as store from '@lectern/sdk/store';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

const PASSAGE_CHARS = 700; // a passage is at most this long (a paragraph is never split)
const CANDIDATES = 8;
const CITATIONS = 3;
// Cosine similarity below which a passage is not about the question. Tuned
// for the kernel's built-in lexical embedder; a neural model (MiniLM) scores
// related texts higher: measure with your own material.
const MIN_SCORE = 0.12;
const MAX_QUESTION = 2000;

/** @param {string} course */
const collection = (course) => `course-${course}`;

/** (heading, passage) pairs: paragraphs joined up to PASSAGE_CHARS under the heading they follow. @param {string} text */
function passages(text) {
  /** @type {[string, string][]} */
  const out = [];
  let heading = '';
  /** @type {string[]} */
  let current = [];
  const flush = () => {
    if (current.length) out.push([heading, current.join('\n\n')]);
    current = [];
  };
  for (const raw of text.split(/\n\s*\n/)) {
    const block = raw.trim();
    if (!block) continue;
    const m = /^(#{1,6})\s+(.*)$/.exec(block);
    if (m && !block.includes('\n')) {
      flush();
      heading = m[2].trim();
      continue;
    }
    if (current.length && current.reduce((n, c) => n + c.length, 0) + block.length > PASSAGE_CHARS) flush();
    current.push(block);
  }
  flush();
  return out;
}

/** @param {string} course @param {string} id */
function remove(course, id) {
  const ids = /** @type {string[] | undefined} */ (store.get(`doc/${course}/${id}`));
  if (ids && ids.length) {
    vector.delete(collection(course), ids);
    store.remove(`doc/${course}/${id}`);
  }
}

/** @param {string} why */
const refusal = (why) => ({ text: '', citations: [], refusal: why });

/** @type {typeof import('lectern:plugin/tutor@0.2.0')} */
export const tutor = {
  indexDocument(ctx, doc) {
    remove(doc.course, doc.id);
    const name = collection(doc.course);
    vector.ensureCollection({ name, dimension: embed.dimension(), distance: 'cosine' });
    const parts = passages(doc.text);
    /** @type {string[]} */
    const ids = [];
    for (let start = 0; start < parts.length; start += 64) {
      // the kernel embeds and stores up to 256 at a time
      const batch = parts.slice(start, start + 64);
      const vectors = embed.embed(batch.map(([heading, body]) => `${doc.title}\n${heading}\n${body}`));
      const points = batch.map(([heading, body], i) => {
        ids.push(`${doc.id}#${start + i}`);
        const fields = { document: doc.id, item: doc.item, title: doc.title, heading, $text: body };
        return {
          id: ids[ids.length - 1],
          vector: vectors[i],
          metadata: Object.entries(fields).map(([key, value]) => ({ key, value })),
        };
      });
      vector.upsert(name, points);
    }
    store.put(`doc/${doc.course}/${doc.id}`, ids);
    return ids.length;
  },

  removeDocument(ctx, id) {
    if (ctx.course === undefined) throw errors.invalidInput("remove-document needs the course in the call's context");
    remove(ctx.course, id);
  },

  ask(ctx, q) {
    if (q.openAssessment !== undefined) {
      return refusal(`The tutor is paused while you have “${q.openAssessment.title}” open; it is back once you submit.`);
    }
    const question = q.text.trim();
    if (!question || question.length > MAX_QUESTION) throw errors.invalidInput(`a question is 1–${MAX_QUESTION} characters`);
    // A short follow-up ("and why?") is searched with the question before it.
    const last = q.history[q.history.length - 1];
    const search = last && question.split(/\s+/).length < 4 ? `${last.question}\n${question}` : question;
    const [v] = embed.embed([search]);
    /** @type {import('lectern:plugin/vector@0.2.0').Hit[]} */
    let hits;
    try {
      hits = vector.query(collection(q.course), v, CANDIDATES, undefined);
    } catch (e) {
      // the course has no collection yet: nothing indexed
      if (/** @type {any} */ (e)?.payload?.tag !== 'not-found') throw e;
      hits = [];
    }
    hits = hits.filter((h) => h.score >= MIN_SCORE).slice(0, CITATIONS);
    if (!hits.length) return refusal('I could not find this in the course material.');
    const citations = hits.map((h) => {
      const m = Object.fromEntries(h.metadata.map((f) => [f.key, f.value]));
      return {
        documentId: m.document,
        item: m.item,
        title: m.title,
        heading: m.heading || undefined,
        anchor: undefined, // the kernel finds the heading's anchor in the page it renders
        excerpt: m.$text,
        score: h.score,
      };
    });
    const best = citations[0];
    const where = `“${best.title}”${best.heading ? `, ${best.heading}` : ''}`;
    return { text: `From ${where}:\n\n${best.excerpt}`, citations, refusal: undefined };
  },
};
