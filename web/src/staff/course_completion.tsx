// The course's completion rule: which assessments must all be graded, and the minimum percentage
// of their points. Meeting it completes the course (and issues its credential).
//
// The API answers GET with 404 while a course has no rule; the page reads that as "none yet".
// The rule carries no version, so PUT has no If-Match: the last save wins (see the report).
import { useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { ErrorBox, Loading, announce, useLoad } from '../components/ui';
import { formatDateTime, t } from '../i18n';
import { fromUnix } from '../pages/student_shared';
import { useSession } from '../session';
import { type AssessmentSummary, coursePath } from './course_api';

type Rule = Schemas['CompletionRule'];

export function CompletionRuleEditor({ courseId, assessments }: { courseId: string; assessments: AssessmentSummary[] }) {
  const { institution } = useSession();
  const path = coursePath(institution, courseId);
  const state = useLoad<Rule | null>(async () => {
    try {
      return await call(
        api.GET('/api/v1/institutions/{institution}/courses/{course_id}/completion-rule', { params: { path } }),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [institution, courseId]);

  return (
    <section aria-labelledby="completion-rule-h" class="card sc-completion-rule">
      <h2 id="completion-rule-h">{t('sc_rule_title')}</h2>
      <p class="hint">{t('sc_rule_intro')}</p>
      {state.error !== undefined && state.data === undefined ? (
        <ErrorBox error={state.error} onRetry={state.reload} />
      ) : state.data === undefined ? (
        <Loading />
      ) : (
        <RuleForm
          key={state.data?.updated_at ?? 0}
          rule={state.data}
          assessments={assessments}
          onSaved={(r) => state.set(r)}
          path={path}
        />
      )}
    </section>
  );
}

function RuleForm({
  rule,
  assessments,
  onSaved,
  path,
}: {
  rule: Rule | null;
  assessments: AssessmentSummary[];
  onSaved: (r: Rule) => void;
  path: ReturnType<typeof coursePath>;
}) {
  const [required, setRequired] = useState<string[]>(rule?.required_items ?? []);
  const [min, setMin] = useState(String(rule?.min_percent ?? 50));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const usable = assessments.filter((a) => !a.archived_at || required.includes(a.id));

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await call(
        api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/completion-rule', {
          params: { path },
          body: { required_items: required, min_percent: Number(min) },
        }),
      );
      onSaved(r);
      announce(t('sc_rule_saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack" onSubmit={(e) => void save(e)}>
      <p class="muted">
        {rule ? t('sc_rule_current', { when: formatDateTime(fromUnix(rule.updated_at)) }) : t('sc_rule_none')}
      </p>
      <fieldset>
        <legend>{t('sc_rule_required')}</legend>
        {usable.length === 0 && <p class="hint">{t('sc_rule_no_assessments')}</p>}
        {usable.map((a) => (
          <label class="choice" key={a.id}>
            <input
              type="checkbox"
              checked={required.includes(a.id)}
              onChange={(e) =>
                setRequired(e.currentTarget.checked ? [...required, a.id] : required.filter((x) => x !== a.id))
              }
            />
            <span>
              {a.title}
              {!a.published && <span class="badge">{t('sc_draft')}</span>}
            </span>
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="rule-min">{t('sc_rule_min')}</label>
        <input id="rule-min" type="number" min={0} max={100} step="any" required value={min} onInput={(e) => setMin(e.currentTarget.value)} />
      </div>
      {error !== undefined && <ErrorBox error={error} />}
      <button type="submit" class="primary" disabled={busy || required.length === 0}>
        {t('sc_rule_save')}
      </button>
    </form>
  );
}
