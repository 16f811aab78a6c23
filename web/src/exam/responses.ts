// Answers as the API types them (`AnswerResponse`: one property per kind of
// answer) and what the page needs to know about them.
import type { Schemas } from '../api/client';
import { formatNumber, locale, t } from '../i18n';

export type Question = Schemas['PresentedQuestion'];
export type Answer = Schemas['AnswerResponse'];
export type Attempt = Schemas['Attempt'];
export type Settings = Schemas['Settings'];

/** Every question kind the API presents (`PresentedQuestion.kind`). */
export const KINDS = [
  'single_choice',
  'multiple_choice',
  'true_false',
  'numeric',
  'short_answer',
  'matching',
  'ordering',
  'fill_blanks',
  'essay',
  'plugin',
] as const;

/** How complete an answer is: the submit dialog lists the questions that are not `complete`. */
export type Completeness = 'none' | 'partial' | 'complete';

export function completeness(q: Question, r: Answer | undefined): Completeness {
  if (!r) return 'none';
  if ('choices' in r) return r.choices.length > 0 ? 'complete' : 'none';
  if ('boolean' in r) return 'complete';
  if ('number' in r) return Number.isFinite(r.number.value) ? 'complete' : 'none';
  if ('text' in r) return r.text.trim() ? 'complete' : 'none';
  if ('essay' in r) return r.essay.trim() ? 'complete' : 'none';
  if ('fields' in r) {
    const filled = Object.values(r.fields).some((v) => (Array.isArray(v) ? v.length > 0 : String(v ?? '').trim() !== ''));
    return filled ? 'complete' : 'none';
  }
  if ('sequence' in r) return 'complete';
  if ('pairs' in r) {
    if (r.pairs.length === 0) return 'none';
    return r.pairs.length >= q.options.length ? 'complete' : 'partial';
  }
  if ('blanks' in r) {
    const filled = r.blanks.filter((b) => b.trim()).length;
    if (filled === 0) return 'none';
    return filled >= q.blanks ? 'complete' : 'partial';
  }
  return 'none';
}

/** Structural equality of two answers (the server echoes what it stored). */
export function sameResponse(a: Answer | undefined, b: Answer | undefined): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  // A missing unit and `"unit": null` mean the same.
  const entries = Object.keys(o)
    .filter((k) => o[k] !== undefined && o[k] !== null)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`);
  return `{${entries.join(',')}}`;
}

/** A one-line rendering of an answer, for the results (labels, not ids). */
export function describeResponse(q: Question, r: Answer | undefined): string {
  if (!r) return t('exam_no_answer');
  const label = (list: Schemas['Choice'][], id: string) => list.find((c) => c.id === id)?.text ?? id;
  if ('choices' in r) return r.choices.map((id) => label(q.options, id)).join(', ') || t('exam_no_answer');
  if ('boolean' in r) return r.boolean ? t('exam_true') : t('exam_false');
  if ('number' in r) {
    const n = formatNumber(r.number.value, { maximumFractionDigits: 10 });
    return r.number.unit ? `${n} ${r.number.unit}` : n;
  }
  if ('text' in r) return r.text;
  if ('essay' in r) return r.essay;
  if ('sequence' in r) return r.sequence.map((id) => label(q.options, id)).join(' → ');
  if ('pairs' in r) return r.pairs.map((p) => `${label(q.options, p.left)} → ${label(q.targets, p.right)}`).join('; ');
  if ('blanks' in r) return r.blanks.map((b, i) => t('exam_blank_value', { n: i + 1, value: b })).join('; ');
  return '';
}

/**
 * Reads a number typed in the user's locale. The locale's decimal separator is the
 * decimal one; the other one groups digits, except that a single one not followed by
 * exactly three digits is taken as a decimal separator too (`1.5` typed in French,
 * `1,5` in English). Spaces and apostrophes as digit groups are ignored. NaN when it is
 * not a number.
 */
export function parseLocaleNumber(text: string): number {
  let s = text.trim().replace(/[\s\u00a0\u202f']/g, '').replace('\u2212', '-');
  if (!s) return NaN;
  const decimal = new Intl.NumberFormat(locale()).formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
  const other = decimal === ',' ? '.' : ',';
  const parts = s.split(other);
  if (parts.length === 2 && !s.includes(decimal) && !/^\d{3}$/.test(parts[1] ?? '')) {
    s = parts.join('.');
  } else {
    s = parts.join('').replace(decimal, '.');
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return NaN;
  return Number(s);
}
