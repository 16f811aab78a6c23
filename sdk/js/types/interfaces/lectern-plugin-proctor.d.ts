/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/proctor@0.2.0' {
  export function openSession(ctx: Context, attemptId: string, policy: Policy, startedAtMs: bigint): void;
  /**
   * Scores one or more batches (in `seq` order) in the context of everything seen so far.
   */
  export function ingest(ctx: Context, attemptId: string, batches: Array<Batch>): Assessment;
  /**
   * The attempt ended at `ended-at-ms` (server time): a final scoring.
   */
  export function closeSession(ctx: Context, attemptId: string, endedAtMs: bigint): Assessment;
  /**
   * An instructor's decision, applied to the session's scoring.
   */
  export function decide(ctx: Context, attemptId: string, decision: Decision): Assessment;
  /**
   * Forgets a session (retention, or a privacy request). Idempotent.
   */
  export function dropSession(ctx: Context, attemptId: string): void;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  /**
   * # Variants
   * 
   * ## `"focus-lost"`
   * 
   * ## `"focus-regained"`
   * 
   * ## `"visibility-hidden"`
   * 
   * ## `"visibility-visible"`
   * 
   * ## `"copy"`
   * 
   * ## `"paste"`
   * 
   * ## `"context-menu"`
   * 
   * ## `"fullscreen-exit"`
   * 
   * ## `"ip-changed"`
   * 
   * Client address changed during the attempt (set by the kernel).
   * ## `"device-changed"`
   * 
   * Device fingerprint changed during the attempt (set by the kernel).
   * ## `"heartbeat"`
   * 
   * ## `"concurrent-session"`
   * 
   * Another session of the same user is active (set by the kernel).
   * ## `"devtools-opened"`
   * 
   * ## `"answer-burst"`
   * 
   * Many answers saved within seconds of each other (set by the kernel).
   * ## `"paste-into-answer"`
   * 
   * Text pasted into an answer field (set by the kernel from the exam page).
   */
  export type SignalKind = 'focus-lost' | 'focus-regained' | 'visibility-hidden' | 'visibility-visible' | 'copy' | 'paste' | 'context-menu' | 'fullscreen-exit' | 'ip-changed' | 'device-changed' | 'heartbeat' | 'concurrent-session' | 'devtools-opened' | 'answer-burst' | 'paste-into-answer';
  export interface Signal {
    kind: SignalKind,
    /**
     * Client time, milliseconds since the Unix epoch.
     */
    atMs: bigint,
    /**
     * For intervals (e.g. time out of focus).
     */
    durationMs?: bigint,
    detail?: string,
  }
  /**
   * Where a batch came from, as the kernel saw the request.
   */
  export interface Client {
    /**
     * The client's network (an IPv4 /24 or IPv6 /64 prefix), not its address.
     */
    network?: string,
    /**
     * SHA-256 (hex) of the user agent string: compared, never shown.
     */
    userAgentHash?: string,
    /**
     * The login session the batch was sent with (an opaque id).
     */
    session?: string,
  }
  export interface Batch {
    /**
     * Grows by one per batch of an attempt; the kernel refuses replays
     * and gaps are batches the client never sent. Batches arrive in order.
     */
    seq: bigint,
    /**
     * Server time the kernel received it, ms since the Unix epoch.
     */
    receivedAtMs: bigint,
    client: Client,
    signals: Array<Signal>,
  }
  /**
   * A weight for a signal kind or for one of the plugin's rules by id.
   */
  export type WeightTarget = WeightTargetKind | WeightTargetRule;
  export interface WeightTargetKind {
    tag: 'kind',
    val: SignalKind,
  }
  export interface WeightTargetRule {
    tag: 'rule',
    val: string,
  }
  export interface Weight {
    target: WeightTarget,
    weight: number,
  }
  /**
   * # Variants
   * 
   * ## `"record-only"`
   * 
   * Keep the score and flags for review; never interfere.
   * ## `"flag-for-review"`
   * 
   * Put the attempt in the review queue above the review threshold.
   * ## `"lock-attempt"`
   * 
   * Also lock the attempt above the flag threshold until an instructor unlocks it.
   * ## `"auto-submit"`
   * 
   * Submit the attempt above the flag threshold.
   */
  export type Action = 'record-only' | 'flag-for-review' | 'lock-attempt' | 'auto-submit';
  export interface Policy {
    weights: Array<Weight>,
    /**
     * At or above it, the attempt is shown in the review queue.
     */
    reviewThreshold: number,
    /**
     * At or above it, `action` applies (at least `review-threshold`).
     */
    flagThreshold: number,
    /**
     * Expected heartbeat period; longer gaps count as `heartbeat` gaps.
     */
    heartbeatIntervalMs: bigint,
    allowCopyPaste: boolean,
    action: Action,
  }
  /**
   * # Variants
   * 
   * ## `"low"`
   * 
   * ## `"medium"`
   * 
   * ## `"high"`
   */
  export type Severity = 'low' | 'medium' | 'high';
  /**
   * One observation a flag rests on.
   */
  export interface Evidence {
    kind: SignalKind,
    atMs: bigint,
    durationMs?: bigint,
    /**
     * The batch it arrived in (0 for the kernel's own at close).
     */
    seq: bigint,
    detail?: string,
  }
  export interface Flag {
    /**
     * The rule that raised it, e.g. `away`, `paste`.
     */
    id: string,
    severity: Severity,
    /**
     * For instructors, in `ctx.locale`.
     */
    reason: string,
    /**
     * For the student (who sees their own record), in `ctx.locale`; none to show `reason`.
     */
    studentReason?: string,
    evidence: Array<Evidence>,
    /**
     * What this rule added to the risk score.
     */
    contribution: number,
    atMs: bigint,
  }
  export interface Assessment {
    riskScore: number,
    flags: Array<Flag>,
    explanation: Array<string>,
    /**
     * Whether the policy's action should now take effect (lock or submit).
     */
    act: boolean,
  }
  /**
   * What an instructor decided about an attempt.
   */
  export type Decision = DecisionDismiss | DecisionUnlock | DecisionCleared;
  /**
   * The flag with this id is dismissed: it no longer counts.
   */
  export interface DecisionDismiss {
    tag: 'dismiss',
    val: string,
  }
  /**
   * The attempt is unlocked and may continue.
   */
  export interface DecisionUnlock {
    tag: 'unlock',
  }
  /**
   * Reviewed; nothing to do.
   */
  export interface DecisionCleared {
    tag: 'cleared',
  }
}
