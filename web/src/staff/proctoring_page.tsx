// /teach/courses/:course/proctoring: the review queue of flagged attempts, highest risk first
// (GET …/proctoring/flagged, waiting or reviewed or both), and one attempt's record (GET
// /assessments/{id}/attempts/{id}/proctoring): the plugin's score, explanation and flags with
// their reasons and evidence, the timeline of every signal received (who sent it from where), the
// reviews so far, and a review (POST …/proctoring/review): dismiss or confirm, with a comment the
// student sees too.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { announce, describeError, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, formatNumber, locale, t, tp } from '../i18n';
import { coursePath } from '../pages/student_shared';
import { useSession } from '../session';
import {
  type AssessmentSummary,
  type Person,
  StaffAsync,
  StaffFrame,
  describeActor,
  fromUnix,
  loadAssessments,
  loadRoster,
  personName,
} from './grading_shared';

type Flagged = Schemas['FlaggedAttempt'];
type ProctoringRecord = Schemas['ProctoringRecord'];
type Filter = 'false' | 'true' | 'all';

const SIGNAL_KEYS: Record<Schemas['SignalKind'], MessageKey> = {
  focus_lost: 'sg_sig_focus_lost',
  focus_regained: 'sg_sig_focus_regained',
  visibility_hidden: 'sg_sig_visibility_hidden',
  visibility_visible: 'sg_sig_visibility_visible',
  copy: 'sg_sig_copy',
  paste: 'sg_sig_paste',
  context_menu: 'sg_sig_context_menu',
  fullscreen_exit: 'sg_sig_fullscreen_exit',
  ip_changed: 'sg_sig_ip_changed',
  device_changed: 'sg_sig_device_changed',
  heartbeat: 'sg_sig_heartbeat',
  concurrent_session: 'sg_sig_concurrent_session',
  devtools_opened: 'sg_sig_devtools_opened',
};

const SEVERITY_KEYS: Record<Schemas['FlagSeverity'], MessageKey> = {
  low: 'sg_severity_low',
  medium: 'sg_severity_medium',
  high: 'sg_severity_high',
};

/** A risk score 0–1 with up to three decimals ("0.125"): two would round differently from the plugin's text. */
function risk(n: number | undefined | null): string {
  return n == null ? '—' : formatNumber(n, { minimumFractionDigits: 2, maximumFractionDigits: 3 });
}

/** Milliseconds by the client's clock → a date and time with seconds. */
function clock(ms: number): string {
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(new Date(ms));
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? t('sg_secs', { n: s }) : t('sg_mins_secs', { m: Math.floor(s / 60), s: s % 60 });
}

export function ProctoringPage({ course }: { course: string }) {
  return (
    <StaffFrame course={course} section="proctoring" title={(c) => t('sg_proctoring_title', { course: c.title })}>
      {(c) => <ProctoringBody course={c.id} />}
    </StaffFrame>
  );
}

interface QueueData {
  items: Flagged[];
  assessments: AssessmentSummary[];
  roster: Map<string, Person>;
}

function ProctoringBody({ course }: { course: string }) {
  const { institution } = useSession();
  const [filter, setFilter] = useState<Filter>('false');
  const [open, setOpen] = useState<Flagged | null>(null);
  const state = useLoad<QueueData>(async () => {
    const [list, assessments, roster] = await Promise.all([
      call(
        api.GET('/api/v1/institutions/{institution}/courses/{course_id}/proctoring/flagged', {
          params: { ...coursePath(institution, course), query: { reviewed: filter } },
        }),
      ),
      loadAssessments(institution, course),
      loadRoster(institution, course),
    ]);
    return { items: list.items, assessments, roster };
  }, [institution, course, filter]);

  const title = (d: QueueData, a: string) => d.assessments.find((x) => x.id === a)?.title ?? a;

  return (
    <>
      <fieldset class="sg-filter">
        <legend>{t('sg_flagged_show')}</legend>
        {(
          [
            ['false', 'sg_flagged_waiting'],
            ['true', 'sg_flagged_reviewed'],
            ['all', 'sg_flagged_all'],
          ] as [Filter, MessageKey][]
        ).map(([v, key]) => (
          <label class="choice" key={v}>
            <input type="radio" name="sg-flagged" checked={filter === v} onChange={() => setFilter(v)} />
            <span>{t(key)}</span>
          </label>
        ))}
      </fieldset>
      <StaffAsync state={state}>
        {(d) => (
          <>
            <section aria-labelledby="sg-flagged-h">
              <h2 id="sg-flagged-h">{t('sg_flagged_title')}</h2>
              <p class="hint">{t('sg_flagged_intro')}</p>
              {d.items.length === 0 ? (
                <p class="muted">{filter === 'false' ? t('sg_flagged_none') : t('sg_flagged_none_here')}</p>
              ) : (
                <div class="table-wrap" role="region" aria-labelledby="sg-flagged-h" tabIndex={0}>
                  <table class="sg-flagged">
                    <thead>
                      <tr>
                        <th scope="col">{t('sg_col_student')}</th>
                        <th scope="col">{t('sg_col_assessment')}</th>
                        <th scope="col">{t('sg_col_risk')}</th>
                        <th scope="col">{t('sg_col_flags')}</th>
                        <th scope="col">{t('sg_col_review')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.items.map((f) => {
                        const name = personName(d.roster, f.student);
                        const last = f.reviews[f.reviews.length - 1];
                        return (
                          <tr key={f.attempt} class={open?.attempt === f.attempt ? 'sg-current' : undefined}>
                            <th scope="row">{name}</th>
                            <td>{title(d, f.assessment)}</td>
                            <td>
                              <RiskMeter value={f.scored?.risk_score} threshold={f.flag_threshold} />
                            </td>
                            <td>
                              {(f.scored?.flags ?? []).map((fl) => (
                                <span key={fl.id} class={`badge sev-${fl.severity}`}>
                                  {fl.id}
                                </span>
                              ))}
                            </td>
                            <td>
                              {last && (
                                <span class={`badge ${last.decision === 'confirmed' ? 'bad' : 'ok'}`}>
                                  {t(last.decision === 'confirmed' ? 'sg_decision_confirmed' : 'sg_decision_dismissed')}
                                </span>
                              )}{' '}
                              <button
                                type="button"
                                aria-expanded={open?.attempt === f.attempt}
                                aria-controls="sg-record"
                                onClick={() => setOpen(open?.attempt === f.attempt ? null : f)}
                              >
                                {t('sg_open_record', { student: name })}
                              </button>
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            <div id="sg-record">
              {open && (
                <RecordPanel
                  key={open.attempt}
                  flagged={open}
                  student={personName(d.roster, open.student)}
                  assessment={title(d, open.assessment)}
                  roster={d.roster}
                  onReviewed={() => state.reload()}
                />
              )}
            </div>
          </>
        )}
      </StaffAsync>
    </>
  );
}

/** The score against the threshold: a number and a bar (the number carries the meaning). */
function RiskMeter({ value, threshold }: { value?: number | null; threshold?: number | null }) {
  const v = Math.max(0, Math.min(1, value ?? 0));
  return (
    <span class="sg-risk">
      <span>{risk(value)}</span>
      {threshold != null && <span class="hint"> {t('sg_threshold', { n: risk(threshold) })}</span>}
      <span class={`sg-risk-bar ${threshold != null && v >= threshold ? 'over' : ''}`} aria-hidden="true">
        <span style={{ width: `${v * 100}%` }} />
      </span>
    </span>
  );
}

function RecordPanel({
  flagged,
  student,
  assessment,
  roster,
  onReviewed,
}: {
  flagged: Flagged;
  student: string;
  assessment: string;
  roster: Map<string, Person>;
  onReviewed: () => void;
}) {
  const state = useLoad<ProctoringRecord>(
    () =>
      call(
        api.GET('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/proctoring', {
          params: { path: { assessment_id: flagged.assessment, attempt_id: flagged.attempt } },
        }),
      ),
    [flagged.assessment, flagged.attempt],
  );
  return (
    <section class="card sg-record" aria-labelledby="sg-record-h">
      <h2 id="sg-record-h" tabIndex={-1}>
        {t('sg_record_title', { student, assessment })}
      </h2>
      <StaffAsync state={state}>{(r) => <RecordBody record={r} flagged={flagged} roster={roster} onReviewed={(s) => {
        state.set({ ...r, state: s });
        onReviewed();
      }} />}</StaffAsync>
    </section>
  );
}

function RecordBody({
  record,
  flagged,
  roster,
  onReviewed,
}: {
  record: ProctoringRecord;
  flagged: Flagged;
  roster: Map<string, Person>;
  onReviewed: (s: Schemas['ProctoringState']) => void;
}) {
  const [showHeartbeats, setShowHeartbeats] = useState(false);
  const s = record.state;
  const scored = s.scored;
  // Every signal with the batch it came in (which browser, from where), oldest first.
  const signals = record.batches
    .flatMap((b) => b.signals.map((sig) => ({ sig, batch: b })))
    .sort((a, b) => a.sig.at_ms - b.sig.at_ms);
  const heartbeats = signals.filter((x) => x.sig.kind === 'heartbeat').length;
  const shown = showHeartbeats ? signals : signals.filter((x) => x.sig.kind !== 'heartbeat');
  const clients = new Map<string, number>();
  for (const b of record.batches) {
    const key = `${b.client.user_agent ?? ''}|${b.client.ip ?? ''}`;
    if (!clients.has(key)) clients.set(key, clients.size + 1);
  }
  const clientOf = (b: Schemas['StoredSignalBatch']) => clients.get(`${b.client.user_agent ?? ''}|${b.client.ip ?? ''}`) ?? 1;

  return (
    <>
      <dl class="st-facts sg-record-facts">
        <dt>{t('sg_col_risk')}</dt>
        <dd>
          <RiskMeter value={scored?.risk_score} threshold={flagged.flag_threshold} />
        </dd>
        <dt>{t('sg_batches')}</dt>
        <dd>{tp('sg_batches_n', s.batches)}</dd>
        {s.scored_at != null && (
          <>
            <dt>{t('sg_scored_at')}</dt>
            <dd>{formatDateTime(fromUnix(s.scored_at))}</dd>
          </>
        )}
        {scored?.lock && (
          <>
            <dt>{t('sg_locked')}</dt>
            <dd>{t('sg_locked_yes')}</dd>
          </>
        )}
      </dl>
      {s.plugin_error && <p class="notice warn">{t('sg_plugin_error', { error: s.plugin_error })}</p>}

      {scored && scored.explanation.length > 0 && (
        <>
          <h3>{t('sg_explanation')}</h3>
          <ul class="sg-explanation">
            {scored.explanation.map((x, i) => (
              <li key={i}>{x}</li>
            ))}
          </ul>
        </>
      )}

      <h3>{t('sg_flags')}</h3>
      {!scored || scored.flags.length === 0 ? (
        <p class="muted">{t('sg_flags_none')}</p>
      ) : (
        <ul class="sg-flags">
          {scored.flags.map((f) => (
            <li key={f.id} class={`sg-flag-card sev-${f.severity}`} data-flag={f.id}>
              <p>
                <strong>{f.id}</strong> <span class={`badge sev-${f.severity}`}>{t(SEVERITY_KEYS[f.severity])}</span>{' '}
                <span class="hint">{t('sg_flag_since', { when: clock(f.at_ms) })}</span>
              </p>
              <p>{f.reason}</p>
              {f.evidence.length > 0 && (
                <details>
                  <summary>{tp('sg_evidence', f.evidence.length)}</summary>
                  <ul>
                    {f.evidence.map((x, i) => (
                      <li key={i}>
                        <code>{x}</code>
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}

      <h3 id="sg-timeline-h">{t('sg_timeline')}</h3>
      <p class="hint">{t('sg_timeline_intro')}</p>
      {[...clients.entries()].length > 1 && (
        <ul class="sg-clients">
          {record.batches
            .filter((b, i, all) => all.findIndex((x) => clientOf(x) === clientOf(b)) === i)
            .map((b) => (
              <li key={clientOf(b)}>
                {t('sg_client_n', { n: clientOf(b) })}: {b.client.user_agent ?? t('sg_unknown')} {b.client.ip ? `(${b.client.ip})` : ''}
              </li>
            ))}
        </ul>
      )}
      {heartbeats > 0 && (
        <label class="choice">
          <input type="checkbox" checked={showHeartbeats} onChange={(e) => setShowHeartbeats(e.currentTarget.checked)} />
          <span>{tp('sg_show_heartbeats', heartbeats)}</span>
        </label>
      )}
      <div class="table-wrap" role="region" aria-labelledby="sg-timeline-h" tabIndex={0}>
        <table class="sg-timeline">
          <thead>
            <tr>
              <th scope="col">{t('sg_col_when')}</th>
              <th scope="col">{t('sg_col_signal')}</th>
              <th scope="col">{t('sg_col_duration')}</th>
              <th scope="col">{t('sg_col_detail')}</th>
              <th scope="col">{t('sg_col_client')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(({ sig, batch }, i) => (
              <tr key={`${batch.seq}-${i}`} class={`sig-${sig.kind}`}>
                <th scope="row">{clock(sig.at_ms)}</th>
                <td>{t(SIGNAL_KEYS[sig.kind])}</td>
                <td>{sig.duration_ms != null ? duration(sig.duration_ms) : ''}</td>
                <td>{sig.detail ?? ''}</td>
                <td>{t('sg_client_n', { n: clientOf(batch) })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3>{t('sg_reviews')}</h3>
      {s.reviews.length === 0 ? (
        <p class="muted">{t('sg_reviews_none')}</p>
      ) : (
        <ul class="sg-reviews">
          {s.reviews.map((r, i) => (
            <li key={i}>
              <span class={`badge ${r.decision === 'confirmed' ? 'bad' : 'ok'}`}>
                {t(r.decision === 'confirmed' ? 'sg_decision_confirmed' : 'sg_decision_dismissed')}
              </span>{' '}
              {t('sg_review_by', { who: describeActor(`user:${r.by}`, roster), when: formatDateTime(fromUnix(r.at)) })}
              <p class="sg-review-comment">{r.comment}</p>
            </li>
          ))}
        </ul>
      )}
      <ReviewForm flagged={flagged} onReviewed={onReviewed} />
    </>
  );
}

function ReviewForm({ flagged, onReviewed }: { flagged: Flagged; onReviewed: (s: Schemas['ProctoringState']) => void }) {
  const [decision, setDecision] = useState<Schemas['ReviewDecision'] | ''>('');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<Schemas['ReviewDecision'] | undefined>(undefined);
  const ok = comment.trim().length > 0 && comment.length <= 4000;

  async function submit(e: Event) {
    e.preventDefault();
    if (!ok || decision === '') return;
    setBusy(true);
    setError(undefined);
    try {
      const s = await call(
        api.POST('/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/proctoring/review', {
          params: { path: { assessment_id: flagged.assessment, attempt_id: flagged.attempt } },
          body: { decision, comment: comment.trim() },
        }),
      );
      setDone(decision);
      setComment('');
      setDecision('');
      announce(t(decision === 'confirmed' ? 'sg_review_saved_confirmed' : 'sg_review_saved_dismissed'));
      onReviewed(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="sg-review" onSubmit={submit} aria-labelledby="sg-review-h">
      <h3 id="sg-review-h">{t('sg_review_title')}</h3>
      <fieldset>
        <legend>{t('sg_review_decision')}</legend>
        <label class="choice">
          <input type="radio" name="sg-decision" checked={decision === 'dismissed'} onChange={() => setDecision('dismissed')} />
          <span>
            <strong>{t('sg_dismiss')}</strong> — {t('sg_dismiss_hint')}
          </span>
        </label>
        <label class="choice">
          <input type="radio" name="sg-decision" checked={decision === 'confirmed'} onChange={() => setDecision('confirmed')} />
          <span>
            <strong>{t('sg_confirm')}</strong> — {t('sg_confirm_hint')}
          </span>
        </label>
      </fieldset>
      <label class="field">
        <span>{t('sg_review_comment')}</span>
        <textarea required maxLength={4000} rows={3} value={comment} onInput={(e) => setComment(e.currentTarget.value)} aria-describedby="sg-review-hint" />
      </label>
      <p id="sg-review-hint" class="hint">
        {t('sg_review_comment_hint')}
      </p>
      {error !== undefined && (
        <p class="notice error" role="alert">
          {describeError(error)}
        </p>
      )}
      {done && (
        <p class="notice ok" role="status">
          {t(done === 'confirmed' ? 'sg_review_saved_confirmed' : 'sg_review_saved_dismissed')}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || !ok || decision === ''} aria-busy={busy}>
        {busy ? t('sg_saving') : t('sg_review_submit')}
      </button>
    </form>
  );
}
