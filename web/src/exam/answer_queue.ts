// The durable answer queue: every answer reaches localStorage before any request,
// and is sent with a per-question version that only grows. An entry leaves storage
// only once the server has acknowledged that very version, so a reload, a crashed tab
// or a lost connection loses nothing: the page restores unsent answers over the
// server's copies and replays them in the order they were given.
//
// The server refuses (409) a save whose version is not above the stored one. That
// happens when another tab or device saved in between, or when an acknowledgement
// was lost. The queue then reads the attempt again and, unless the server's copy is
// the newer answer, resends the local one as max(server, local) + 1.
import { ApiError, api, call } from '../api/client';
import { describeError } from '../components/ui';
import { t } from '../i18n';
import { type Answer, type Attempt, sameResponse } from './responses';
import * as store from './storage';

/** What the page shows next to a question. */
export type SaveState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved' }
  | { kind: 'offline' }
  | { kind: 'failed'; reason: string; retrying: boolean };

/** One unsent answer as stored. */
interface Entry {
  version: number;
  response: Answer;
  /** Position in the replay order (grows with every change). */
  order: number;
  /** When the student gave it, by this browser's clock (ms). */
  edited_at: number;
  /** A request with this version may have reached the server: a change needs a new version. */
  sent: boolean;
  /** The server refused this answer for good (400/404/422): not replayed until it changes. */
  refused?: string;
}

export interface QueueOptions {
  assessment: string;
  attempt: string;
  /** A save's state changed. */
  onState: (question: string, state: SaveState) => void;
  /** The attempt as read again after a conflict (the page re-syncs its countdown from it). */
  onAttempt: (attempt: Attempt) => void;
  /** Another tab or device saved a newer answer than this page's: show it. */
  onAdopt: (question: string, response: Answer) => void;
  /** The attempt is over (submitted, or its time is up): nothing more can be saved. */
  onClosed: (attempt: Attempt) => void;
}

/** Retry delays after a network failure, in ms (then the last one, until `online`). */
const BACKOFF = [1000, 2000, 4000, 8000, 15000, 30000];
/** Conflicts in a row for one question before the queue stops resending it. */
const MAX_CONFLICTS = 5;
/** Server timestamps have second resolution: within this margin the local answer wins. */
const CLOCK_SLACK_MS = 2000;

export class AnswerQueue {
  private readonly o: QueueOptions;
  /** The highest version known per question, the server's or this page's. */
  private readonly versions = new Map<string, number>();
  /** Debounce timers of answers not yet due. */
  private readonly timers = new Map<string, number>();
  private readonly conflicts = new Map<string, number>();
  private order = 0;
  private pumping: Promise<void> | null = null;
  private retryTimer: number | undefined;
  private failures = 0;
  private closed = false;
  /** The server's clock minus this browser's (ms), from the Date header of the last response. */
  private clockOffset = 0;

  constructor(o: QueueOptions) {
    this.o = o;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  dispose(): void {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    window.clearTimeout(this.retryTimer);
    for (const timer of this.timers.values()) window.clearTimeout(timer);
    this.timers.clear();
  }

  /** Learns the server's clock from a response's Date header. */
  noteServerTime(response: Response): void {
    const date = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(date)) this.clockOffset = date - Date.now();
  }

  /**
   * Merges what the server has with what this browser still holds: a local answer
   * newer than the server's is kept (and shown, and replayed), an older or equal one
   * is forgotten. Returns the answers to show, by question.
   */
  restore(attempt: Attempt): Map<string, Answer> {
    const shown = new Map<string, Answer>();
    for (const [q, saved] of Object.entries(attempt.answers)) {
      shown.set(q, saved.response);
      this.versions.set(q, saved.version);
    }
    const prefix = store.keys.answerPrefix(this.o.attempt);
    for (const key of store.keysWithPrefix(prefix)) {
      const q = key.slice(prefix.length);
      const entry = store.read<Entry>(key);
      if (!entry || !attempt.questions.some((x) => x.id === q)) {
        store.remove(key);
        continue;
      }
      const server = attempt.answers[q];
      this.order = Math.max(this.order, entry.order);
      this.versions.set(q, Math.max(this.versions.get(q) ?? 0, entry.version));
      if (server && !this.localIsNewer(entry, server)) {
        store.remove(key);
        continue;
      }
      shown.set(q, entry.response);
      this.o.onState(q, entry.refused ? { kind: 'failed', reason: entry.refused, retrying: false } : this.waiting());
    }
    return shown;
  }

  /**
   * Records a changed answer: stored at once, sent after `delayMs` (a debounce for
   * typing; 0 for choices). A change to an answer not yet sent keeps its version.
   */
  put(question: string, response: Answer, delayMs: number): void {
    if (this.closed) return;
    const key = store.keys.answer(this.o.attempt, question);
    const existing = store.read<Entry>(key);
    let version: number;
    if (existing && !existing.sent) {
      version = existing.version;
    } else {
      version = (this.versions.get(question) ?? 0) + 1;
      this.versions.set(question, version);
    }
    const entry: Entry = { version, response, order: ++this.order, edited_at: Date.now(), sent: false };
    store.write(key, entry);
    this.conflicts.delete(question);
    this.o.onState(question, this.waiting());
    window.clearTimeout(this.timers.get(question));
    if (delayMs > 0) {
      this.timers.set(
        question,
        window.setTimeout(() => {
          this.timers.delete(question);
          void this.pump();
        }, delayMs),
      );
    } else {
      this.timers.delete(question);
      void this.pump();
    }
  }

  /** How many answers wait to be acknowledged (not counting those the server refused for good). */
  pending(): number {
    return this.pendingQuestions().length;
  }

  /** Questions whose answers wait to be acknowledged (not those the server refused for good). */
  pendingQuestions(): string[] {
    const prefix = store.keys.answerPrefix(this.o.attempt);
    return store
      .keysWithPrefix(prefix)
      .filter((k) => !store.read<Entry>(k)?.refused)
      .map((k) => k.slice(prefix.length));
  }

  /** Sends every answer now (debounces cut short). True when nothing is left unsent. */
  async flush(): Promise<boolean> {
    for (const timer of this.timers.values()) window.clearTimeout(timer);
    this.timers.clear();
    this.failures = 0;
    window.clearTimeout(this.retryTimer);
    await this.pump();
    // A change made while the last request was in flight is sent by a second round.
    if (this.next()) await this.pump();
    return this.pending() === 0;
  }

  /** Stops sending: the attempt is over. Unsent answers can no longer be saved. */
  close(): void {
    this.closed = true;
    this.dispose();
  }

  private readonly onOnline = () => {
    this.failures = 0;
    window.clearTimeout(this.retryTimer);
    void this.pump();
  };

  private readonly onOffline = () => {
    for (const q of this.pendingQuestions()) this.o.onState(q, { kind: 'offline' });
  };

  private waiting(): SaveState {
    return navigator.onLine ? { kind: 'saving' } : { kind: 'offline' };
  }

  /** The next answer due: the oldest change without a running debounce and not refused. */
  private next(): [string, Entry] | undefined {
    const prefix = store.keys.answerPrefix(this.o.attempt);
    let best: [string, Entry] | undefined;
    for (const key of store.keysWithPrefix(prefix)) {
      const q = key.slice(prefix.length);
      if (this.timers.has(q) || (this.conflicts.get(q) ?? 0) >= MAX_CONFLICTS) continue;
      const e = store.read<Entry>(key);
      if (!e || e.refused) continue;
      if (!best || e.order < best[1].order) best = [q, e];
    }
    return best;
  }

  /** Sends due answers one at a time, oldest first; one pump runs at a time. */
  private pump(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.pumping) {
      this.pumping = this.drain().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const due = this.next();
      if (!due) return;
      const [q, entry] = due;
      const outcome = await this.send(q, entry);
      if (outcome === 'stop') return;
    }
  }

  private async send(q: string, entry: Entry): Promise<'next' | 'stop'> {
    const key = store.keys.answer(this.o.attempt, q);
    store.write(key, { ...entry, sent: true });
    this.o.onState(q, this.waiting());
    try {
      const r = await api.PUT('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/answers/{question_id}', {
        params: { path: { assessment_id: this.o.assessment, attempt_id: this.o.attempt, question_id: q } },
        body: { response: entry.response, version: entry.version },
      });
      this.noteServerTime(r.response);
      await call(Promise.resolve(r));
    } catch (e) {
      return this.failed(q, entry, e);
    }
    this.acknowledged(q, entry.version);
    this.failures = 0;
    return 'next';
  }

  /** The server has `version` of `q`: forget the entry unless a newer change replaced it. */
  private acknowledged(q: string, version: number): void {
    const key = store.keys.answer(this.o.attempt, q);
    this.versions.set(q, Math.max(this.versions.get(q) ?? 0, version));
    this.conflicts.delete(q);
    const current = store.read<Entry>(key);
    if (current && current.version > version) return; // a later change is queued
    if (current && current.version === version && !current.sent) return; // changed, same version: resend
    store.remove(key);
    if (!this.timers.has(q)) this.o.onState(q, { kind: 'saved' });
  }

  private async failed(q: string, entry: Entry, e: unknown): Promise<'next' | 'stop'> {
    const err = e instanceof ApiError ? e : new ApiError(0, { detail: String(e) });
    if (err.offline || err.status >= 500 || err.status === 429 || err.status === 401) {
      // Transient: keep everything, retry later (and at once when the browser is back online).
      this.scheduleRetry();
      for (const p of this.pendingQuestions()) {
        this.o.onState(
          p,
          err.offline ? { kind: 'offline' } : { kind: 'failed', reason: describeError(err), retrying: true },
        );
      }
      return 'stop';
    }
    if (err.status === 409) return this.conflict(q, entry);
    // 400, 403, 404, 422: this answer can never be accepted as it is.
    const reason = describeError(err);
    const key = store.keys.answer(this.o.attempt, q);
    const current = store.read<Entry>(key);
    if (current && current.version === entry.version) store.write(key, { ...current, refused: reason });
    this.o.onState(q, { kind: 'failed', reason, retrying: false });
    return 'next';
  }

  /**
   * A 409: the attempt is over, or the server holds a version at least as high. Reads
   * the attempt again and keeps whichever answer is newer, never losing the local one
   * to an older copy.
   */
  private async conflict(q: string, entry: Entry): Promise<'next' | 'stop'> {
    let attempt: Attempt;
    try {
      const r = await api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}', {
        params: { path: { assessment_id: this.o.assessment, attempt_id: this.o.attempt } },
      });
      this.noteServerTime(r.response);
      attempt = await call(Promise.resolve(r));
    } catch (e) {
      return this.failed(q, entry, e);
    }
    this.o.onAttempt(attempt);
    if (attempt.state !== 'in_progress' || attempt.time_left_secs === 0) {
      for (const p of this.pendingQuestions()) {
        this.o.onState(p, { kind: 'failed', reason: t('exam_save_closed'), retrying: false });
      }
      this.close();
      this.o.onClosed(attempt);
      return 'stop';
    }
    // Decide on the latest local change of this question (the one sent, or one made since).
    const key = store.keys.answer(this.o.attempt, q);
    const latest = store.read<Entry>(key) ?? entry;
    const server = attempt.answers[q];
    if (!server) {
      // Nothing stored, yet refused: try once more as a fresh version.
      return this.resend(q, latest, latest.version);
    }
    const sameAsServer = sameResponse(server.response, latest.response);
    if (sameAsServer || !this.localIsNewer(latest, server)) {
      // The server already has this answer, or a newer one from another tab or device
      // (then the page shows theirs): nothing of this page's is lost either way.
      this.versions.set(q, Math.max(this.versions.get(q) ?? 0, server.version));
      this.conflicts.delete(q);
      window.clearTimeout(this.timers.get(q));
      this.timers.delete(q);
      store.remove(key);
      if (!sameAsServer) this.o.onAdopt(q, server.response);
      this.o.onState(q, { kind: 'saved' });
      return 'next';
    }
    return this.resend(q, latest, server.version);
  }

  private resend(q: string, entry: Entry, serverVersion: number): 'next' | 'stop' {
    const n = (this.conflicts.get(q) ?? 0) + 1;
    this.conflicts.set(q, n);
    if (n >= MAX_CONFLICTS) {
      // Something keeps overtaking this answer: stop, keep it stored, say so.
      this.o.onState(q, { kind: 'failed', reason: t('exam_save_conflicts'), retrying: false });
      return 'next';
    }
    const version = Math.max(serverVersion, entry.version, this.versions.get(q) ?? 0) + 1;
    this.versions.set(q, version);
    store.write(store.keys.answer(this.o.attempt, q), { ...entry, version, sent: false });
    return 'next';
  }

  /**
   * Whether a local answer is newer than the server's copy: a higher version is; at the
   * same or a lower version (another tab, a lost acknowledgement) the later change is,
   * by the server's clock, with ties to the local answer.
   */
  private localIsNewer(entry: Entry, server: { version: number; saved_at: string; response: Answer }): boolean {
    if (entry.version > server.version) return true;
    if (sameResponse(entry.response, server.response)) return false;
    const savedAt = Date.parse(server.saved_at);
    if (!Number.isFinite(savedAt)) return true;
    return entry.edited_at + this.clockOffset + CLOCK_SLACK_MS >= savedAt;
  }

  /** Retries after a growing delay; offline, the `online` event retries at once as well. */
  private scheduleRetry(): void {
    window.clearTimeout(this.retryTimer);
    const delay = BACKOFF[Math.min(this.failures, BACKOFF.length - 1)]!;
    this.failures++;
    this.retryTimer = window.setTimeout(() => void this.pump(), delay);
  }
}
