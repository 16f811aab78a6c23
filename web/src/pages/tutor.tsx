// The course's AI tutor: ask a question, read the answer with numbered citations that link to
// the cited section of the course, and the conversation so far. The tutor answers only from
// material the student may open now, and declines (`refusal`) when the material is silent or
// while the student has an assessment attempt open.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { ErrorBox, Loading, announce, describeError, useLoad } from '../components/ui';
import { formatDateTime, t } from '../i18n';
import { useSession } from '../session';
import { coursePath, fromUnix, itemHref } from './student_shared';

type Turn = Schemas['TutorTurn'];
type Citation = Schemas['TutorCitation'];

const MAX_QUESTION = 2000;

export function TutorPanel({ course, headingLevel = 2 }: { course: string; headingLevel?: 2 | 3 }) {
  const { institution } = useSession();
  const conversation = useLoad(
    () =>
      call(
        api.GET('/api/v1/institutions/{institution}/courses/{course_id}/tutor/conversation', {
          params: coursePath(institution, course),
        }),
      ),
    [institution, course],
  );
  const [question, setQuestion] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const H = headingLevel === 2 ? 'h2' : 'h3';
  const formId = `tutor-q-${course}`;

  async function ask(e: Event) {
    e.preventDefault();
    const q = question.trim();
    if (!q) {
      setError(t('st_tutor_empty'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const turn = await call(
        api.POST('/api/v1/institutions/{institution}/courses/{course_id}/tutor/questions', {
          params: coursePath(institution, course),
          body: { question: q },
        }),
      );
      const turns = conversation.data?.turns ?? [];
      conversation.set({ turns: [...turns, turn] });
      setQuestion('');
      announce(turn.refusal ? t('st_tutor_declined_announce') : t('st_tutor_answered_announce'));
    } catch (err) {
      setError(askError(err));
    } finally {
      setBusy(false);
    }
  }

  // A tutor switched off for the course: say so instead of an error box.
  if (conversation.error instanceof ApiError && conversation.error.status === 403) {
    return (
      <section aria-labelledby="tutor-h" class="tutor card">
        <H id="tutor-h">{t('st_tutor_title')}</H>
        <p class="muted">{t('st_tutor_off')}</p>
      </section>
    );
  }

  return (
    <section aria-labelledby="tutor-h" class="tutor card">
      <H id="tutor-h">{t('st_tutor_title')}</H>
      <p class="hint">{t('st_tutor_intro')}</p>
      {conversation.error !== undefined && conversation.data === undefined ? (
        <ErrorBox error={conversation.error} onRetry={conversation.reload} />
      ) : conversation.data === undefined ? (
        <Loading />
      ) : conversation.data.turns.length === 0 ? (
        <p class="muted">{t('st_tutor_no_turns')}</p>
      ) : (
        <ol class="tutor-turns" aria-label={t('st_tutor_conversation')}>
          {conversation.data.turns.map((turn) => (
            <TurnView key={turn.id} turn={turn} course={course} />
          ))}
        </ol>
      )}
      <form onSubmit={ask} class="stack tutor-form">
        <div class="field">
          <label for={formId}>{t('st_tutor_question')}</label>
          <textarea
            id={formId}
            rows={3}
            maxLength={MAX_QUESTION}
            value={question}
            aria-describedby={`${formId}-hint`}
            onInput={(e) => setQuestion(e.currentTarget.value)}
          />
          <p id={`${formId}-hint`} class="hint">
            {t('st_tutor_question_hint')}
          </p>
        </div>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('st_tutor_asking') : t('st_tutor_ask')}
        </button>
      </form>
    </section>
  );
}

/** A failed question, in words: throttled (with when to retry), switched off, or the API's reason. */
function askError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) {
      const secs = Number(err.problem.retry_after ?? 60);
      return t('st_tutor_throttled', { secs });
    }
    if (err.status === 403) return t('st_tutor_off');
  }
  return describeError(err);
}

/**
 * Why the tutor declined, in the student's language where the reason is known. The API sends
 * the reason as an English sentence only (no code), so the two the tutor gives today are
 * recognised by their wording; any other is shown as sent.
 */
function refusalText(refusal: string): { text: string; exam: boolean } {
  if (/assessment open/i.test(refusal)) return { text: t('st_tutor_refused_exam'), exam: true };
  if (/find this in the course material/i.test(refusal)) return { text: t('st_tutor_refused_not_found'), exam: false };
  return { text: refusal, exam: false };
}

function TurnView({ turn, course }: { turn: Turn; course: string }) {
  const refusal = turn.refusal ? refusalText(turn.refusal) : undefined;
  return (
    <li class="tutor-turn">
      <p class="q">
        <span class="visually-hidden">{t('st_tutor_you_asked')} </span>
        {turn.question}
      </p>
      <p class="hint">{formatDateTime(fromUnix(turn.asked_at))}</p>
      {refusal ? (
        <div class={`notice ${refusal.exam ? 'warn' : ''}`}>
          <p>
            <strong>{refusal.exam ? t('st_tutor_unavailable') : t('st_tutor_declined')}</strong> {refusal.text}
          </p>
        </div>
      ) : (
        <>
          <p class="answer">
            <span class="visually-hidden">{t('st_tutor_answer')} </span>
            <AnswerText text={turn.answer} citations={turn.citations} course={course} />
          </p>
          <p class="hint">{turn.generated ? t('st_tutor_generated') : t('st_tutor_extractive')}</p>
          {turn.citations.length > 0 && (
            <>
              <p class="sources-label">{t('st_tutor_sources')}</p>
              <ol class="sources">
                {turn.citations.map((c) => (
                  <li key={c.n} value={c.n}>
                    <a href={itemHref(course, c.item, c.anchor)}>{citationLabel(c)}</a>
                    {c.excerpt && <blockquote>{c.excerpt}</blockquote>}
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </li>
  );
}

function citationLabel(c: Citation): string {
  return c.section && c.section !== c.item_title ? `${c.item_title} › ${c.section}` : c.item_title;
}

/** The answer with each `[n]` a link to the cited section (labelled with its source). */
function AnswerText({ text, citations, course }: { text: string; citations: Citation[]; course: string }) {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(m[1]);
    const c = citations.find((x) => x.n === n);
    if (!c) continue;
    parts.push(text.slice(last, m.index));
    parts.push(
      <a
        class="cite"
        href={itemHref(course, c.item, c.anchor)}
        aria-label={t('st_tutor_cite_label', { n, source: citationLabel(c) })}
      >
        [{n}]
      </a>,
    );
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}
