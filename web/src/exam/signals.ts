// The integrity-signal collector of a proctored attempt. It records what the exam
// page's notice announces (and nothing else): the page hidden or shown, the window
// losing or regaining focus, leaving full screen, copy, cut and paste (a paste into an
// answer names the question), the context menu, and a heartbeat at the policy's
// interval. Signals are buffered and sent in numbered batches every few seconds.
//
// The buffer, the batches not yet acknowledged and the next sequence number live in
// localStorage, so a reload neither loses a signal nor reuses a number. A batch is
// resent unchanged until acknowledged (the server and the plugin ignore duplicates).
// The server refuses (409) a number it has already seen: the collector then reads the
// proctoring record to learn whether the batch was in fact stored (its acknowledgement
// lost) or the number was taken (another tab), and renumbers it, a bounded number of
// times, so a refused number never loops.
import { ApiError, type Schemas, api, call } from '../api/client';
import * as store from './storage';

type Signal = Schemas['Signal'];
type SignalKind = Schemas['SignalKind'];
export type ProctoringState = Schemas['ProctoringState'];

interface Batch {
  seq: number;
  signals: Signal[];
  /** How many times this batch got a new number after a refusal. */
  renumbered: number;
}

interface Stored {
  next_seq: number;
  buffer: Signal[];
  batches: Batch[];
}

export interface CollectorOptions {
  assessment: string;
  attempt: string;
  /** The policy's heartbeat interval; the default when it has none. */
  heartbeatMs: number;
  /** The record as the server returned it after a batch (the page reacts to a lock). */
  onState: (state: ProctoringState) => void;
  /** The server no longer takes signals for this attempt (it was submitted). */
  onClosed: () => void;
}

/** How often buffered signals are sent. */
export const BATCH_MS = 5000;
/** The heartbeat interval when the policy sets none. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** The API's limit per batch. */
const MAX_PER_BATCH = 500;
/** Renumberings of one batch before it is given up. */
const MAX_RENUMBER = 3;
const BACKOFF = [2000, 5000, 10000, 30000];

export class SignalCollector {
  private readonly o: CollectorOptions;
  private readonly key: string;
  private s: Stored;
  private worker: Worker | null = null;
  private fallbackTimers: number[] = [];
  private sending: Promise<void> | null = null;
  private retryTimer: number | undefined;
  private failures = 0;
  private stopped = false;
  /** When the page was hidden / the window lost focus (to report how long on return). */
  private hiddenAt: number | null = null;
  private blurredAt: number | null = null;
  private fullscreen = document.fullscreenElement !== null;

  constructor(o: CollectorOptions) {
    this.o = o;
    this.key = store.keys.signals(o.attempt);
    const saved = store.read<Stored>(this.key);
    this.s = saved && Array.isArray(saved.buffer) && Array.isArray(saved.batches)
      ? saved
      : { next_seq: 1, buffer: [], batches: [] };
  }

  start(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('blur', this.onBlur);
    window.addEventListener('focus', this.onFocus);
    document.addEventListener('fullscreenchange', this.onFullscreen);
    document.addEventListener('copy', this.onCopy);
    document.addEventListener('cut', this.onCut);
    document.addEventListener('paste', this.onPaste);
    document.addEventListener('contextmenu', this.onContextMenu);
    window.addEventListener('online', this.onOnline);
    this.startTicks();
    // The first heartbeat marks the page as open; anything left from before a reload goes out
    // now, once checked against the record (the last page may have sent it without hearing back).
    const leftOver = this.s.batches.length > 0;
    this.record('heartbeat');
    // A reload or a closed tab leaves its last `visibility_hidden` open on the record, and the
    // plugin counts an open absence until something ends it: the page in view ends it now
    // (with nothing open, the plugin ignores these).
    if (document.visibilityState === 'visible') this.record('visibility_visible', 'page opened');
    if (document.hasFocus()) this.record('focus_regained', 'page opened');
    this.sending = (leftOver ? this.reconcile() : Promise.resolve(true))
      .then((go) => (go ? this.drain() : undefined))
      .finally(() => {
        this.sending = null;
      });
    void this.flush();
  }

  stop(): void {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('blur', this.onBlur);
    window.removeEventListener('focus', this.onFocus);
    document.removeEventListener('fullscreenchange', this.onFullscreen);
    document.removeEventListener('copy', this.onCopy);
    document.removeEventListener('cut', this.onCut);
    document.removeEventListener('paste', this.onPaste);
    document.removeEventListener('contextmenu', this.onContextMenu);
    window.removeEventListener('online', this.onOnline);
    this.worker?.terminate();
    this.worker = null;
    this.fallbackTimers.forEach((t) => window.clearInterval(t));
    this.fallbackTimers = [];
    window.clearTimeout(this.retryTimer);
  }

  /** Buffers one signal (stored at once). */
  record(kind: SignalKind, detail: string | null = null, durationMs: number | null = null): void {
    if (this.stopped) return;
    this.s.buffer.push({ kind, at_ms: Date.now(), detail, duration_ms: durationMs });
    this.persist();
  }

  /** Sends everything buffered now; resolves when every batch is acknowledged or sending stopped. */
  async flush(): Promise<void> {
    this.cut();
    await this.send();
  }

  /** How many signals are not yet acknowledged. */
  unsent(): number {
    return this.s.buffer.length + this.s.batches.reduce((n, b) => n + b.signals.length, 0);
  }

  private persist(): void {
    store.write(this.key, this.s);
  }

  /** Moves the buffer into numbered batches. */
  private cut(): void {
    while (this.s.buffer.length > 0) {
      const signals = this.s.buffer.splice(0, MAX_PER_BATCH);
      this.s.batches.push({ seq: this.s.next_seq++, signals, renumbered: 0 });
    }
    this.persist();
  }

  private startTicks(): void {
    const onTick = (what: string) => {
      if (what === 'heartbeat') this.record('heartbeat');
      else void this.flush();
    };
    try {
      this.worker = new Worker(new URL('./heartbeat.worker.ts', import.meta.url), { type: 'module' });
      this.worker.addEventListener('message', (e: MessageEvent<string>) => onTick(e.data));
      this.worker.postMessage({ heartbeatMs: this.o.heartbeatMs, batchMs: BATCH_MS });
    } catch {
      // No workers here: page timers, throttled in a background tab but better than nothing.
      this.fallbackTimers = [
        window.setInterval(() => onTick('heartbeat'), this.o.heartbeatMs),
        window.setInterval(() => onTick('batch'), BATCH_MS),
      ];
    }
  }

  /** Sends the batches in order, one request at a time. */
  private send(): Promise<void> {
    if (this.stopped && this.s.batches.length === 0) return Promise.resolve();
    if (!this.sending) {
      this.sending = this.drain().finally(() => {
        this.sending = null;
      });
    }
    return this.sending;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.s.batches[0];
      if (!batch) return;
      const path = { assessment_id: this.o.assessment, attempt_id: this.o.attempt };
      try {
        const state = await call(
          api.POST('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/signals', {
            params: { path },
            body: { seq: batch.seq, signals: batch.signals },
          }),
        );
        this.done(batch);
        this.failures = 0;
        this.o.onState(state);
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, {});
        if (err.offline || err.status >= 500 || err.status === 429 || err.status === 401) {
          this.retryLater();
          return;
        }
        if (err.status === 409) {
          if (!(await this.reconcile(true))) return;
          continue;
        }
        // 400/403/404/422: this batch can never be accepted; keep the others going.
        this.done(batch);
      }
    }
  }

  private done(batch: Batch): void {
    this.s.batches = this.s.batches.filter((b) => b !== batch);
    this.persist();
  }

  /**
   * Brings the unacknowledged batches in line with the server's record: a batch stored
   * already (its acknowledgement lost) is dropped; one whose number another sender took is
   * renumbered after the last one stored (a bounded number of times); if the record says
   * the numbers were free yet the server refused one (`afterRefusal`), the attempt is over.
   * Returns whether to go on sending.
   */
  private async reconcile(afterRefusal = false): Promise<boolean> {
    let record: Schemas['ProctoringRecord'];
    try {
      record = await call(
        api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/proctoring', {
          params: { path: { assessment_id: this.o.assessment, attempt_id: this.o.attempt } },
        }),
      );
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return this.closed();
      this.retryLater();
      return false;
    }
    const stored = (b: Batch) => {
      const there = record.batches.find((x) => x.seq === b.seq);
      return there !== undefined && b.signals.every((s) => there.signals.some((x) => x.kind === s.kind && x.at_ms === s.at_ms));
    };
    const before = this.s.batches.length;
    this.s.batches = this.s.batches.filter((b) => !stored(b));
    const last = record.state.last_seq;
    const taken = this.s.batches.filter((b) => b.seq <= last);
    if (taken.length === 0) {
      this.persist();
      // Nothing was stored or taken: whatever refused the first batch was about the attempt.
      if (before === this.s.batches.length && afterRefusal) return this.closed();
      return true;
    }
    // Renumber every batch not yet stored after the server's last number, in order.
    let seq = last + 1;
    for (const b of this.s.batches) {
      if (b.seq <= last) b.renumbered++;
      b.seq = seq++;
    }
    this.s.batches = this.s.batches.filter((b) => b.renumbered <= MAX_RENUMBER);
    this.s.next_seq = Math.max(seq, this.s.next_seq);
    this.persist();
    return true;
  }

  /** The server takes no more signals for this attempt: stop and forget them. */
  private closed(): false {
    this.stop();
    this.s = { next_seq: this.s.next_seq, buffer: [], batches: [] };
    this.persist();
    this.o.onClosed();
    return false;
  }

  private retryLater(): void {
    window.clearTimeout(this.retryTimer);
    const delay = BACKOFF[Math.min(this.failures, BACKOFF.length - 1)]!;
    this.failures++;
    this.retryTimer = window.setTimeout(() => void this.send(), delay);
  }

  private readonly onOnline = () => {
    this.failures = 0;
    void this.send();
  };

  private readonly onVisibility = () => {
    if (document.visibilityState === 'hidden') {
      this.hiddenAt = Date.now();
      this.record('visibility_hidden');
      // The tab may never come back: send now, not at the next tick.
      void this.flush();
    } else {
      const since = this.hiddenAt;
      this.hiddenAt = null;
      this.record('visibility_visible', null, since === null ? null : Date.now() - since);
      void this.flush();
    }
  };

  private readonly onBlur = () => {
    this.blurredAt = Date.now();
    this.record('focus_lost');
    void this.flush();
  };

  private readonly onFocus = () => {
    const since = this.blurredAt;
    this.blurredAt = null;
    this.record('focus_regained', null, since === null ? null : Date.now() - since);
  };

  private readonly onFullscreen = () => {
    const now = document.fullscreenElement !== null;
    if (this.fullscreen && !now) this.record('fullscreen_exit');
    this.fullscreen = now;
  };

  private readonly onCopy = () => this.record('copy');
  private readonly onCut = () => this.record('copy', 'cut');

  private readonly onPaste = (e: ClipboardEvent) => {
    // `answer:<question>` is the API's convention for a paste into an answer field.
    const field = (e.target as Element | null)?.closest?.('[data-question]');
    const question = field?.getAttribute('data-question');
    this.record('paste', question ? `answer:${question}` : null);
  };

  private readonly onContextMenu = () => this.record('context_menu');
}
