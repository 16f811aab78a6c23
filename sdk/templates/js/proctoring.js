// {{name}}: a Lectern proctoring plugin in JavaScript (lectern:plugin@0.2.0).
//
// Weighted integrity scoring. Every signal kind the policy weighs is a rule
// (`copy`, `focus-lost`, `ip-changed` …): each occurrence adds the kind's
// weight to the attempt's risk, with the signal as evidence. Missing
// heartbeats (a gap longer than twice the policy's interval, or batches that
// never arrived) count under `heartbeat`. Copy and paste count only when the
// policy does not allow them. At the review threshold the attempt goes to the
// review queue; at the flag threshold the policy's action applies (`act`) and
// `proctoring.flagged` is published once. An instructor can dismiss a rule's
// flag, unlock the attempt, or clear it. The session lives in kv between
// batches. Build it with `lectern plugin build`, test it with `lectern plugin
// test`, package it with `lectern plugin pack`.

import * as errors from '@lectern/sdk/errors';
import * as events from '@lectern/sdk/events';
import * as store from '@lectern/sdk/store';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

/** @typedef {import('lectern:plugin/proctor@0.2.0').Assessment} Assessment */
/** @typedef {{kind: string, atMs: number, durationMs?: number, seq: number, detail?: string}} Evidence */
/** @typedef {{contribution: number, evidence: Evidence[], atMs: number}} Rule */
/** @typedef {{weights: Record<string, number>, review: number, flag: number, heartbeatMs: number, action: string,
 *   lastSeq: number, lastSeenMs: number, rules: Record<string, Rule>, dismissed: string[], unlocked: boolean,
 *   published: boolean}} Session */

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

const COPY_PASTE = new Set(['copy', 'paste', 'paste-into-answer']);
const MAX_EVIDENCE = 20; // per rule: enough for a reviewer, bounded in kv

/** @param {string} attemptId */
const key = (attemptId) => `session/${attemptId}`;

/** @param {string} attemptId @returns {Session} */
function load(attemptId) {
  const session = store.get(key(attemptId));
  if (session === undefined) throw errors.notFound(`no proctoring session for attempt ${attemptId}`);
  return /** @type {Session} */ (session);
}

/** @param {Session} session @param {string} rule @param {number} weight @param {Evidence} evidence */
function add(session, rule, weight, evidence) {
  const r = (session.rules[rule] ??= { contribution: 0, evidence: [], atMs: evidence.atMs });
  r.contribution += weight;
  if (r.evidence.length < MAX_EVIDENCE) r.evidence.push(evidence);
}

/** @param {Session} session @returns {Assessment} */
function assessment(session) {
  /** @type {Assessment['flags']} */
  const flags = [];
  const explanation = [];
  let risk = 0;
  for (const [rule, r] of Object.entries(session.rules).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (session.dismissed.includes(rule) || r.contribution <= 0) continue;
    risk += r.contribution;
    const n = r.evidence.length;
    flags.push({
      id: rule,
      severity: r.contribution >= session.flag ? 'high' : r.contribution >= session.review / 2 ? 'medium' : 'low',
      reason: `${rule}: ${n} time${n !== 1 ? 's' : ''}, +${r.contribution.toFixed(2)} risk`,
      studentReason: undefined,
      // u64 values are BigInts in JavaScript.
      evidence: r.evidence.map((e) => ({
        kind: /** @type {any} */ (e.kind),
        atMs: BigInt(e.atMs),
        durationMs: e.durationMs === undefined ? undefined : BigInt(e.durationMs),
        seq: BigInt(e.seq),
        detail: e.detail,
      })),
      contribution: r.contribution,
      atMs: BigInt(r.atMs),
    });
    explanation.push(`${rule} added ${r.contribution.toFixed(2)}`);
  }
  if (risk >= session.review) {
    explanation.push(`risk ${risk.toFixed(2)} reached the review threshold ${session.review.toFixed(2)}`);
  }
  const act = risk >= session.flag && ['lock-attempt', 'auto-submit'].includes(session.action) && !session.unlocked;
  return { riskScore: risk, flags, explanation, act };
}

/** @type {typeof import('lectern:plugin/proctor@0.2.0')} */
export const proctor = {
  openSession(ctx, attemptId, policy, startedAtMs) {
    if (policy.flagThreshold <= 0 || policy.reviewThreshold > policy.flagThreshold) {
      throw errors.invalidInput('thresholds: 0 < review-threshold ≤ flag-threshold');
    }
    /** @type {Record<string, number>} */
    const weights = {};
    for (const w of policy.weights) weights[w.target.val] = w.weight;
    if (policy.allowCopyPaste) for (const k of COPY_PASTE) delete weights[k];
    store.put(key(attemptId), {
      weights,
      review: policy.reviewThreshold,
      flag: policy.flagThreshold,
      heartbeatMs: Number(policy.heartbeatIntervalMs),
      action: policy.action,
      lastSeq: 0,
      lastSeenMs: Number(startedAtMs),
      rules: {},
      dismissed: [],
      unlocked: false,
      published: false,
    });
  },

  ingest(ctx, attemptId, batches) {
    const session = load(attemptId);
    const weights = session.weights;
    for (const batch of batches) {
      const seq = Number(batch.seq);
      const received = Number(batch.receivedAtMs);
      if (seq <= session.lastSeq) continue; // delivered again: already counted
      const missing = seq - session.lastSeq - 1;
      const gap = received - session.lastSeenMs;
      if ('heartbeat' in weights && (missing > 0 || (session.heartbeatMs > 0 && gap > 2 * session.heartbeatMs))) {
        const detail = missing > 0 ? `${missing} batch(es) never arrived` : `no batch for ${Math.floor(gap / 1000)} s`;
        add(session, 'heartbeat', weights.heartbeat, { kind: 'heartbeat', atMs: received, seq, detail });
      }
      for (const signal of batch.signals) {
        if (!(signal.kind in weights) || signal.kind === 'heartbeat') continue;
        add(session, signal.kind, weights[signal.kind], {
          kind: signal.kind,
          atMs: Number(signal.atMs),
          durationMs: signal.durationMs === undefined ? undefined : Number(signal.durationMs),
          seq,
          detail: signal.detail,
        });
      }
      session.lastSeq = seq;
      session.lastSeenMs = received;
    }
    const result = assessment(session);
    if (result.riskScore >= session.flag && !session.published) {
      session.published = true;
      events.publishJson('proctoring.flagged', attemptId, { attempt: attemptId, risk: result.riskScore });
    }
    store.put(key(attemptId), session);
    return result;
  },

  closeSession(ctx, attemptId, endedAtMs) {
    return assessment(load(attemptId));
  },

  decide(ctx, attemptId, decision) {
    const session = load(attemptId);
    if (decision.tag === 'dismiss') {
      if (!(decision.val in session.rules)) throw errors.notFound(`no flag \`${decision.val}\` on attempt ${attemptId}`);
      session.dismissed = [...new Set([...session.dismissed, decision.val])].sort();
    } else if (decision.tag === 'unlock') {
      session.unlocked = true;
    }
    store.put(key(attemptId), session);
    return assessment(session);
  },

  dropSession(ctx, attemptId) {
    store.remove(key(attemptId));
  },
};
