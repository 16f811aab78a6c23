// Every user-visible string comes from a message catalogue. Catalogues are split by area
// (src/i18n/messages/*.ts); each exports `en` and `fr`, and `fr` is typed against `en`'s keys,
// so a missing translation fails `tsc`. Strings take `{name}` parameters; plurals use
// `key_one` / `key_other` chosen with Intl.PluralRules (see `tp`).
//
// The student's catalogues are in the main bundle. The staff and admin catalogues travel with
// their pages' chunks (`addCatalogue`, called by the chunk loaders in pages/routes.tsx); only
// their types are imported here, so every key is still checked at compile time.
import * as common from './messages/common';
import * as student from './messages/student';
import * as exam from './messages/exam';
import type * as staffCourse from './messages/staff_course';
import type * as staffGrading from './messages/staff_grading';
import type * as admin from './messages/admin';

export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', fr: 'Français' };

type Catalogue = typeof common.en &
  typeof student.en &
  typeof exam.en &
  typeof staffCourse.en &
  typeof staffGrading.en &
  typeof admin.en;
export type MessageKey = keyof Catalogue;

const catalogues: Record<Locale, Partial<Record<MessageKey, string>>> = {
  en: { ...common.en, ...student.en, ...exam.en },
  fr: { ...common.fr, ...student.fr, ...exam.fr },
};

/** Adds an area's catalogue (a chunk loaded on demand brings its own). */
export function addCatalogue(c: { en: Record<string, string>; fr: Record<string, string> }): void {
  Object.assign(catalogues.en, c.en);
  Object.assign(catalogues.fr, c.fr);
}

let current: Locale = 'en';

/** The supported locale closest to a BCP 47 tag (`fr-CA` → `fr`), or English. */
export function pickLocale(tag: string | null | undefined): Locale {
  const base = (tag ?? '').toLowerCase().split(/[-_]/)[0];
  return (LOCALES as readonly string[]).includes(base ?? '') ? (base as Locale) : 'en';
}

export function setLocale(l: Locale): void {
  current = l;
  document.documentElement.lang = l;
}

export function locale(): Locale {
  return current;
}

type Params = Record<string, string | number>;

function fill(s: string, params?: Params): string {
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => {
    const v = params[k];
    if (v === undefined) return m;
    return typeof v === 'number' ? formatNumber(v) : v;
  });
}

/** The message `key` in the current locale, with `{param}`s filled in. */
export function t(key: MessageKey, params?: Params): string {
  return fill(catalogues[current][key] ?? catalogues.en[key] ?? key, params);
}

/** A plural message: `t(`${key}_one` | `${key}_other`)` by the locale's plural rules for `n`. */
export function tp(key: string, n: number, params?: Params): string {
  const rule = new Intl.PluralRules(current).select(n) === 'one' ? 'one' : 'other';
  const k = `${key}_${rule}` as MessageKey;
  return t(k, { n, ...params });
}

export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(current, options).format(n);
}

export function formatDateTime(iso: string | number | Date | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const d = typeof iso === 'number' ? new Date(iso * 1000) : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium' }).format(d);
}

/** "in 3 days", "2 hours ago". */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const diff = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(current, { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

/** A countdown as h:mm:ss (digits in the locale's numbering system). */
export function formatDuration(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const two = (n: number) => formatNumber(n, { minimumIntegerDigits: 2, useGrouping: false });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${formatNumber(h)}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}
