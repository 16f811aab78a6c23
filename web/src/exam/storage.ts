// The exam page's durable state in localStorage: unsent answers, the signal
// collector's sequence number and buffer, the start request's idempotency id.
// Everything is JSON under `lectern.exam.` and scoped by attempt (or assessment),
// so a reload or a crashed tab finds it again and nothing leaks between attempts.
//
// localStorage can be unavailable (some private modes) or full: writes then
// report failure and the page keeps working from memory.

const ROOT = 'lectern.exam.';

export const keys = {
  /** One unsent answer: `lectern.exam.<attempt>.answer.<question>`. */
  answer: (attempt: string, question: string) => `${ROOT}${attempt}.answer.${question}`,
  answerPrefix: (attempt: string) => `${ROOT}${attempt}.answer.`,
  /** The signal collector's sequence number, buffer and unacknowledged batches. */
  signals: (attempt: string) => `${ROOT}${attempt}.signals`,
  /** The `client_request_id` of a start that may not have completed. */
  start: (assessment: string) => `${ROOT}start.${assessment}`,
};

export function read<T>(key: string): T | undefined {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  } catch {
    return undefined;
  }
}

/** Stores `value` as JSON; false when storage is unavailable or full. */
export function write(key: string, value: unknown): boolean {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function remove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // Unavailable storage has nothing to remove.
  }
}

/** Every stored key that starts with `prefix`. */
export function keysWithPrefix(prefix: string): string[] {
  const out: string[] = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k?.startsWith(prefix)) out.push(k);
    }
  } catch {
    // As above.
  }
  return out;
}

/** Forgets everything stored for an attempt (once it is submitted nothing more can be sent). */
export function forgetAttempt(attempt: string): void {
  for (const k of keysWithPrefix(`${ROOT}${attempt}.`)) remove(k);
}
