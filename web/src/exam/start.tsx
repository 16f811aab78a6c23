// An assessment's start page: what the student is about to take (questions, time
// limit, window and late rules, attempts used, hint cost), what proctoring records and
// why when it is on, then Start (or Resume, when an attempt is in progress), and the
// student's past attempts with links to their results.
//
// Starting is idempotent: the request carries a `client_request_id` kept in
// localStorage until the attempt exists, so a double click, a retry after a timeout
// or a reload mid-request returns the same attempt; and the server returns the open
// attempt, if there is one, to any start.
import { useRef, useState } from 'preact/hooks';
import { ApiError, api, call } from '../api/client';
import { Async, PageTitle, describeError, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { getGrade, getMyAttempts, getSummary, paths } from './exam_api';
import { formatPercent, formatPoints, formatSeconds } from './format';
import { ProctoringNotice } from './notice';
import * as store from './storage';

/** A random id for the start request (works outside secure contexts, unlike randomUUID). */
function requestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function StartPage({ course, assessment }: { course: string; assessment: string }) {
  const session = useSession();
  const data = useLoad(async () => {
    const [{ summary, serverNow }, courseInfo, mine, grade] = await Promise.all([
      getSummary(session.institution, course, assessment),
      call(
        api.GET('/api/v1/institutions/{institution}/courses/{course_id}', {
          params: { path: { institution: session.institution, course_id: course } },
        }),
      ),
      getMyAttempts(assessment),
      session.me.user
        ? getGrade(session.institution, course, session.me.user.id, assessment).catch(() => undefined)
        : Promise.resolve(undefined),
    ]);
    return { summary, serverNow, course: courseInfo, attempts: mine, grade };
  }, [course, assessment]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const inFlight = useRef(false);

  async function start() {
    // A second click before the first request ends does nothing.
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(undefined);
    const key = store.keys.start(assessment);
    let id = store.read<string>(key);
    if (!id) {
      id = requestId();
      store.write(key, id);
    }
    try {
      const a = await call(
        api.POST('/api/v1/assessments/{assessment_id}/attempts', {
          params: { path: { assessment_id: assessment } },
          body: { client_request_id: id },
        }),
      );
      // The attempt exists: the next start (after this one is submitted) is a new request.
      store.remove(key);
      navigate(paths.attempt(course, assessment, a.id));
    } catch (e) {
      // Refused (closed, no attempts left): nothing started, so the id is spent. A network
      // failure keeps it: the attempt may exist, and the retry must find the same one.
      if (!(e instanceof ApiError && e.offline)) store.remove(key);
      setError(e);
      setBusy(false);
      inFlight.current = false;
    }
  }

  return (
    <Async state={data}>
      {({ summary, serverNow, course: c, attempts, grade }) => {
        if (!summary) {
          return (
            <>
              <PageTitle text={t('exam_not_available_title')} />
              <p>{t('exam_not_available')}</p>
              <p>
                <a href={paths.course(course)}>{t('exam_back_to_course', { course: c.title })}</a>
              </p>
            </>
          );
        }
        const s = summary.settings;
        const used = attempts.length;
        const allowed = s.attempts_allowed ?? 1;
        const open = attempts.find((a) => a.state === 'in_progress');
        const past = attempts.filter((a) => a.state === 'submitted');
        const noneLeft = !open && used >= allowed;
        // Points of a graded attempt, from the gradebook.
        const scored = (id: string) => grade?.attempts.find((g) => g.attempt === id);
        // The window as the server's clock saw it when the page loaded; the server decides anyway.
        const notOpen = s.opens_at ? Date.parse(s.opens_at) > serverNow : false;
        const lastStart = s.late_until ?? s.closes_at;
        const closed = lastStart ? Date.parse(lastStart) <= serverNow : false;
        return (
          <div class="exam-start">
            <p class="breadcrumb">
              <a href={paths.course(course)}>{c.title}</a>
            </p>
            <PageTitle text={summary.title} />
            <dl class="facts">
              <dt>{t('exam_facts_questions')}</dt>
              <dd>{formatNumber(summary.questions)}</dd>
              {typeof s.points === 'number' && (
                <>
                  <dt>{t('exam_facts_points')}</dt>
                  <dd>{formatPoints(s.points)}</dd>
                </>
              )}
              <dt>{t('exam_facts_time_limit')}</dt>
              <dd>{s.time_limit_secs ? formatSeconds(s.time_limit_secs) : t('exam_no_time_limit')}</dd>
              {s.opens_at && (
                <>
                  <dt>{t('exam_facts_opens')}</dt>
                  <dd>{formatDateTime(s.opens_at)}</dd>
                </>
              )}
              {s.closes_at && (
                <>
                  <dt>{t('exam_facts_due')}</dt>
                  <dd>{formatDateTime(s.closes_at)}</dd>
                </>
              )}
              {s.late_until && (
                <>
                  <dt>{t('exam_facts_late')}</dt>
                  <dd>
                    {(s.per_late_day ?? 0) > 0
                      ? t('exam_facts_late_penalty', {
                          until: formatDateTime(s.late_until),
                          penalty: formatPercent(s.per_late_day ?? 0),
                        })
                      : t('exam_facts_late_free', { until: formatDateTime(s.late_until) })}
                  </dd>
                </>
              )}
              <dt>{t('exam_facts_attempts')}</dt>
              <dd>{t('exam_facts_attempts_value', { used, allowed })}</dd>
              {(s.per_hint ?? 0) > 0 && (
                <>
                  <dt>{t('exam_facts_hints')}</dt>
                  <dd>{t('exam_facts_hint_cost', { cost: formatPercent(s.per_hint ?? 0) })}</dd>
                </>
              )}
            </dl>
            {s.time_limit_secs && <p>{t('exam_time_limit_note')}</p>}
            <p>{t('exam_autosave_note')}</p>
            {s.proctoring && <ProctoringNotice policy={s.proctoring} />}
            {past.length > 0 && (
              <section aria-labelledby="past-h">
                <h2 id="past-h">{t('exam_past_attempts')}</h2>
                <ul>
                  {past.map((a) => {
                    const g = scored(a.id);
                    return (
                      <li>
                        <a href={paths.attempt(course, assessment, a.id)}>
                          {g
                            ? t('exam_past_attempt_scored', {
                                n: a.number,
                                at: formatDateTime(a.submitted_at),
                                points: formatPoints(g.points),
                                max: formatPoints(g.max_points),
                              })
                            : t('exam_past_attempt', { n: a.number, at: formatDateTime(a.submitted_at) })}
                        </a>
                      </li>
                    );
                  })}
                </ul>
              </section>
            )}
            {error !== undefined && (
              <div class="notice error" role="alert">
                <p>
                  <strong>{t('exam_start_failed')}</strong>{' '}
                  {error instanceof ApiError && error.status === 409 ? t('exam_start_refused') : describeError(error)}
                </p>
                {error instanceof ApiError && error.status === 409 && (
                  <p>{t('exam_server_said', { detail: error.message })}</p>
                )}
              </div>
            )}
            {notOpen && <p class="notice">{t('exam_not_open_yet', { at: formatDateTime(s.opens_at) })}</p>}
            {closed && !open && <p class="notice">{t('exam_closed')}</p>}
            {noneLeft && <p class="notice">{t('exam_no_attempts_left', { allowed })}</p>}
            {open && (
              <p class="notice" id="open-attempt">
                {open.deadline
                  ? t('exam_open_attempt_until', { n: open.number, at: formatDateTime(open.deadline) })
                  : t('exam_open_attempt', { n: open.number })}
              </p>
            )}
            <p class="row">
              {open ? (
                <a class="button primary start-button" href={paths.attempt(course, assessment, open.id)}>
                  {t('exam_resume', { n: open.number })}
                </a>
              ) : (
                <button
                  type="button"
                  class="primary start-button"
                  disabled={busy || notOpen || closed || noneLeft}
                  aria-describedby="start-note"
                  onClick={() => void start()}
                >
                  {busy ? t('exam_starting') : t('exam_start')}
                </button>
              )}
            </p>
            {!open && (
              <p id="start-note" class="hint">
                {s.proctoring ? t('exam_start_note_proctored') : t('exam_start_note')}
              </p>
            )}
          </div>
        );
      }}
    </Async>
  );
}

