// JSON values in the plugin's private key-value store (the `kv` import).
// Keys are 1–512 bytes of UTF-8 without NUL; values up to 1 MiB; writes are
// durable when the call returns. The kernel scopes every key to the plugin
// and the calling institution.
import * as kv from 'lectern:plugin/kv@0.2.0';
import { conflict } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Key-sorted, so equal values have equal bytes (compare-and-swap compares bytes).
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}
const encode = (value) => encoder.encode(JSON.stringify(canonical(value)));
const decode = (bytes) => JSON.parse(decoder.decode(bytes));

/** The JSON value at `key`, or `fallback` when there is none. */
export function get(key, fallback = undefined) {
  const raw = kv.get(key);
  return raw === undefined ? fallback : decode(raw);
}

/** Writes `value` as JSON (durable when this returns). */
export function put(key, value) {
  kv.set(key, encode(value));
}

/** Deletes `key`; returns whether it existed. */
export function remove(key) {
  return kv.delete(key);
}

/** Every key under `prefix`, in byte order (follows the pages of list-keys). */
export function keys(prefix = '') {
  const out = [];
  let after;
  for (;;) {
    const page = kv.listKeys(prefix, after, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1];
  }
}

/**
 * Writes `next` only if the stored value equals `expected` (`undefined`:
 * absent; `next` undefined deletes). Returns whether it wrote.
 */
export function compareAndSwap(key, expected, next) {
  return kv.compareAndSwap(
    key,
    expected === undefined ? undefined : encode(expected),
    next === undefined ? undefined : encode(next),
  );
}

/**
 * Reads, changes and writes `key` with compare-and-swap, retrying on a
 * concurrent write; returns the value written. `change` may run more than once.
 */
export function update(key, change, fallback = undefined, attempts = 16) {
  for (let i = 0; i < attempts; i++) {
    const raw = kv.get(key);
    const next = change(raw === undefined ? fallback : decode(raw));
    if (kv.compareAndSwap(key, raw, next === undefined ? undefined : encode(next))) return next;
  }
  throw conflict(`\`${key}\` kept changing; gave up after ${attempts} attempts`);
}
