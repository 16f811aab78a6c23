// Returning an error without trapping. An exported function whose WIT
// result has an `error` case returns it when it throws an object with a
// `payload` (componentize-js's convention) holding the variant:
//
//   throw errors.invalidInput('`max` must be greater than `min`');
//
// Anything else thrown traps the instance: the kernel reports a fault and
// keeps nothing of the call. Errors from the kernel's services (kv, events…)
// arrive the same way; rethrow them to return them unchanged.

/** An error variant of lectern:plugin/types, thrown as componentize-js expects. */
export class LecternError extends Error {
  /** @param {string} tag @param {string} message */
  constructor(tag, message) {
    super(`${tag}: ${message}`);
    this.name = 'LecternError';
    /** The WIT `error` value: `{ tag, val }`. */
    this.payload = { tag, val: message };
  }
}

export const invalidInput = (message) => new LecternError('invalid-input', message);
export const notFound = (message) => new LecternError('not-found', message);
export const denied = (message) => new LecternError('denied', message);
export const conflict = (message) => new LecternError('conflict', message);
export const quotaExceeded = (message) => new LecternError('quota-exceeded', message);
export const unavailable = (message) => new LecternError('unavailable', message);
export const internal = (message) => new LecternError('internal', message);

/** The text of an error a kernel service threw. */
export function message(e) {
  const p = e && e.payload;
  return p && typeof p.val === 'string' ? p.val : String(e);
}
