// /teach/courses/:course/tutor: what students ask the course's tutor (GET …/tutor/insights):
// counts, the items its answers cite most, the questions the material did not answer (where it
// may be missing something) and the recent questions; and the course's tutor policy (GET/PUT
// …/tutor/policy): whether students may ask, and whether instructors see who asked.
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { announce, describeError, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t, tp } from '../i18n';
import { coursePath, itemHref } from '../pages/student_shared';
import { useSession } from '../session';
import { StaffAsync, StaffFrame, fromUnix } from './grading_shared';

type Insights = Schemas['TutorInsights'];
type Policy = Schemas['TutorPolicy'];
type Logged = Schemas['TutorLoggedQuestion'];

export function InsightsPage({ course }: { course: string }) {
  return (
    <StaffFrame course={course} section="tutor" title={(c) => t('sg_tutor_title', { course: c.title })}>
      {(c) => <InsightsBody course={c.id} />}
    </StaffFrame>
  );
}

function InsightsBody({ course }: { course: string }) {
  const { institution } = useSession();
  const state = useLoad<Insights>(
    () =>
      call(
        api.GET('/api/v1/institutions/{institution}/courses/{course_id}/tutor/insights', {
          params: { ...coursePath(institution, course), query: { limit: 100 } },
        }),
      ),
    [institution, course],
  );
  return (
    <StaffAsync state={state}>
      {(ins) => (
        <>
          <PolicyForm course={course} policy={ins.policy} onSaved={state.reload} />
          <section aria-labelledby="sg-ins-h">
            <h2 id="sg-ins-h">{t('sg_insights_title')}</h2>
            <dl class="sg-stats">
              <div>
                <dt>{t('sg_ins_asked')}</dt>
                <dd>{formatNumber(ins.questions_asked)}</dd>
              </div>
              <div>
                <dt>{t('sg_ins_answered')}</dt>
                <dd>{formatNumber(ins.answered)}</dd>
              </div>
              <div>
                <dt>{t('sg_ins_declined')}</dt>
                <dd>{formatNumber(ins.declined)}</dd>
              </div>
              <div>
                <dt>{t('sg_ins_students')}</dt>
                <dd>{formatNumber(ins.students)}</dd>
              </div>
            </dl>
          </section>
          <div class="grid sg-ins-columns">
            <section aria-labelledby="sg-cited-h" class="card">
              <h3 id="sg-cited-h">{t('sg_ins_cited')}</h3>
              {ins.cited_items.length === 0 ? (
                <p class="muted">{t('sg_ins_cited_none')}</p>
              ) : (
                <ol>
                  {ins.cited_items.map((c) => (
                    <li key={c.item}>
                      <a href={itemHref(course, c.item)}>{c.title}</a> — {tp('sg_ins_citations', c.citations)}
                    </li>
                  ))}
                </ol>
              )}
            </section>
            <section aria-labelledby="sg-unanswered-h" class="card">
              <h3 id="sg-unanswered-h">{t('sg_ins_unanswered')}</h3>
              <p class="hint">{t('sg_ins_unanswered_hint')}</p>
              {ins.unanswered.length === 0 ? (
                <p class="muted">{t('sg_ins_unanswered_none')}</p>
              ) : (
                <QuestionList items={ins.unanswered} course={course} titles={titles(ins)} />
              )}
            </section>
          </div>
          <section aria-labelledby="sg-recent-h">
            <h2 id="sg-recent-h">{t('sg_ins_recent')}</h2>
            {ins.recent.length === 0 ? <p class="muted">{t('sg_ins_recent_none')}</p> : <QuestionList items={ins.recent} course={course} titles={titles(ins)} />}
          </section>
        </>
      )}
    </StaffAsync>
  );
}

/** Item titles by id, from the cited items (questions name the items they cite by id). */
function titles(ins: Insights): Map<string, string> {
  return new Map(ins.cited_items.map((c) => [c.item, c.title]));
}

function QuestionList({ items, course, titles }: { items: Logged[]; course: string; titles: Map<string, string> }) {
  return (
    <ul class="sg-questions">
      {items.map((q, i) => {
        const cited = [...new Set(q.cited_items)];
        return (
          <li key={`${q.asked_at}-${i}`}>
            <p class="sg-q">{q.question}</p>
            <p class="hint">
              {t('sg_ins_asked_by', { who: q.student, when: formatDateTime(fromUnix(q.asked_at)) })}{' '}
              {q.answered ? <span class="badge ok">{t('sg_ins_was_answered')}</span> : <span class="badge warn">{t('sg_ins_not_answered')}</span>}
            </p>
            {q.refusal && <p class="hint">{t('sg_ins_refusal', { reason: q.refusal })}</p>}
            {cited.length > 0 && (
              <p class="hint">
                {t('sg_ins_cites')}{' '}
                {cited.map((c, k) => (
                  <span key={c}>
                    {k > 0 && ', '}
                    <a href={itemHref(course, c)}>{titles.get(c) ?? c}</a>
                  </span>
                ))}
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function PolicyForm({ course, policy, onSaved }: { course: string; policy: Policy; onSaved: () => void }) {
  const { institution } = useSession();
  const [enabled, setEnabled] = useState(policy.enabled);
  const [showNames, setShowNames] = useState(policy.show_names);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const dirty = enabled !== policy.enabled || showNames !== policy.show_names;

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await call(
        api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/tutor/policy', {
          params: coursePath(institution, course),
          body: { enabled, show_names: showNames },
        }),
      );
      setSaved(true);
      announce(t('sg_policy_saved'));
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card sg-policy" onSubmit={save} aria-labelledby="sg-policy-h">
      <h2 id="sg-policy-h">{t('sg_policy_title')}</h2>
      <p>
        {policy.enabled ? <span class="badge ok">{t('sg_policy_on')}</span> : <span class="badge">{t('sg_policy_off')}</span>}{' '}
        {policy.show_names ? <span class="badge">{t('sg_policy_names')}</span> : <span class="badge">{t('sg_policy_pseudonyms')}</span>}
      </p>
      <label class="choice">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} aria-describedby="sg-pol-enabled" />
        <span>{t('sg_policy_enabled')}</span>
      </label>
      <p id="sg-pol-enabled" class="hint">
        {t('sg_policy_enabled_hint')}
      </p>
      <label class="choice">
        <input type="checkbox" checked={showNames} onChange={(e) => setShowNames(e.currentTarget.checked)} aria-describedby="sg-pol-names" />
        <span>{t('sg_policy_show_names')}</span>
      </label>
      <p id="sg-pol-names" class="hint">
        {t('sg_policy_show_names_hint')}
      </p>
      {error !== undefined && (
        <p class="notice error" role="alert">
          {describeError(error)}
        </p>
      )}
      {saved && (
        <p class="notice ok" role="status">
          {t('sg_policy_saved')}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || !dirty} aria-busy={busy}>
        {busy ? t('sg_saving') : t('sg_policy_save')}
      </button>
    </form>
  );
}
