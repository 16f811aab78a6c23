// "Preview as student" in the quiz builder: the questions rendered by the exam page's own
// question components (exam/questions.tsx: the same inputs, labels, hints and keyboard use a
// student gets), from the builder's current draft, with answers and hints kept in this page only.
//
// Why not a real attempt on the real exam page: the API starts attempts only for the course's
// students (`attempt:submit`, which instructors and teaching assistants do not hold), only on a
// published assessment inside its window, and every attempt counts towards the student's
// attempts and the gradebook. There is no staff preview attempt to open (see the report for the
// route that would provide one), so nothing here is saved, graded or proctored.
import { useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { formatNumber, t, tp } from '../i18n';
import { QuestionCard } from '../exam/questions';
import type { Answer } from '../exam/responses';
import type { Question } from './quiz_questions';

type Presented = Schemas['PresentedQuestion'];

/** A deterministic reordering that never leaves two or more items in the key's order. */
function scramble<T>(items: T[]): T[] {
  if (items.length < 2) return [...items];
  const odd = items.filter((_, i) => i % 2 === 1);
  const even = items.filter((_, i) => i % 2 === 0);
  return [...odd, ...even.reverse()];
}

/**
 * A question as the server presents it to a student (no key), as the API's assessment module
 * builds it: choice options and matching left items from the key with their labels, matching
 * targets once each in id order, ordering items never in key order, the number of blanks, units.
 */
export function present(q: Question): Presented {
  const labels = q.labels ?? {};
  const label = (id: string) => ({ id, text: labels[id] ?? id });
  const k = q.key as Record<string, unknown>;
  const out: Presented = {
    id: q.id,
    kind: Object.keys(k)[0]!,
    prompt: q.prompt ?? '',
    points: q.points,
    options: [],
    targets: [],
    blanks: 0,
    hints_available: (q.hints ?? []).length,
    units: [],
  };
  if ('single_choice' in k || 'multiple_choice' in k) {
    const ck = (k.single_choice ?? k.multiple_choice) as Schemas['ChoiceKey'];
    out.options = ck.options.map((o) => label(o.id));
  } else if ('ordering' in k) {
    out.options = scramble((k.ordering as string[]).map(label));
  } else if ('matching' in k) {
    const pairs = k.matching as Schemas['Pair'][];
    out.options = pairs.map((p) => label(p.left));
    const rights = [...new Set(pairs.map((p) => p.right))].sort();
    out.targets = rights.map(label);
  } else if ('numeric' in k) {
    out.units = ((k.numeric as Schemas['NumericKey']).units ?? []).map((u) => u.name);
  } else if ('fill_blanks' in k) {
    out.blanks = (k.fill_blanks as unknown[]).length;
  }
  return out;
}

export function QuizPreview({
  title,
  questions,
  perHint,
  timeLimitSecs,
  onClose,
}: {
  title: string;
  questions: Question[];
  perHint: number;
  timeLimitSecs: number | null | undefined;
  onClose: () => void;
}) {
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [hints, setHints] = useState<Record<string, string[]>>({});
  const presented = questions.map(present);
  return (
    <section aria-labelledby="preview-quiz-h" class="sc-quiz-preview exam">
      <h2 id="preview-quiz-h" tabIndex={-1}>
        {t('sc_quiz_preview_title', { title })}
      </h2>
      <div class="notice" role="note">
        <p>{t('sc_quiz_preview_note')}</p>
        <p class="hint">{t('sc_quiz_preview_why')}</p>
      </div>
      <p class="muted">
        {tp('sc_quiz_preview_count', presented.length)}
        {timeLimitSecs ? ` · ${tp('st_minutes', Math.ceil(timeLimitSecs / 60))}` : ''}
        {perHint > 0 ? ` · ${t('sc_quiz_preview_hint_cost', { cost: formatNumber(perHint, { style: 'percent' }) })}` : ''}
      </p>
      <form class="questions" onSubmit={(e) => e.preventDefault()} aria-label={t('exam_questions_label')}>
        {presented.map((q, i) => (
          <QuestionCard
            key={q.id}
            q={q}
            n={i + 1}
            total={presented.length}
            answer={answers[q.id]}
            state={{ kind: 'idle' }}
            hints={hints[q.id] ?? []}
            perHint={perHint}
            disabled={false}
            onAnswer={(a) => setAnswers((prev) => ({ ...prev, [q.id]: a }))}
            onHint={async () => {
              const all = questions[i]?.hints ?? [];
              setHints((prev) => {
                const taken = prev[q.id] ?? [];
                return taken.length < all.length ? { ...prev, [q.id]: [...taken, all[taken.length]!] } : prev;
              });
            }}
          />
        ))}
      </form>
      <p>
        <button type="button" class="primary" onClick={onClose}>
          {t('sc_quiz_preview_close')}
        </button>
      </p>
    </section>
  );
}
