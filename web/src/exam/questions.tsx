// One question of the exam: its prompt, the input for its kind, its save state and
// its hints. Every kind the API presents has a labelled, keyboard-operable input:
// radio groups and checkboxes in a fieldset, a number with a unit, text, a select
// per item to match, move up/down buttons to order (no drag and drop), an input per
// blank, and a text area for essays.
import { type Fields, fillFields, pluginHtml, readFields } from '../components/plugin_view';
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { announce, describeError } from '../components/ui';
import { formatNumber, t, tp } from '../i18n';
import type { SaveState } from './answer_queue';
import { type Answer, type Question, parseLocaleNumber } from './responses';

/** How long typing pauses before a text answer is sent (choices go at once). */
export const TYPING_DEBOUNCE_MS = 600;

export interface QuestionProps {
  q: Question;
  /** 1-based position in the attempt. */
  n: number;
  total: number;
  answer: Answer | undefined;
  state: SaveState;
  /** Hints taken so far, in order. */
  hints: string[];
  /** The assessment's cost of one hint, a fraction of the question's points. */
  perHint: number;
  disabled: boolean;
  /** A changed answer; `typing` answers are debounced. */
  onAnswer: (answer: Answer, typing: boolean) => void;
  onHint: () => Promise<void>;
}

export function QuestionCard(p: QuestionProps) {
  const id = domId(p.q.id);
  return (
    <section class="question card" id={id} aria-labelledby={`${id}-title`} data-question={p.q.id}>
      <h2 id={`${id}-title`} class="question-title">
        {t('exam_question_n', { n: p.n, total: p.total })}{' '}
        <span class="question-points">{tp('exam_points', p.q.points)}</span>
      </h2>
      <AnswerInput {...p} id={id} />
      <SaveStatus state={p.state} id={`${id}-state`} />
      <Hints {...p} id={id} />
    </section>
  );
}

/** A question id as a DOM id (ids are letters, digits, `.`, `_`, `-`). */
export function domId(question: string): string {
  return `q-${question.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function saveStateText(s: SaveState): string {
  switch (s.kind) {
    case 'idle':
      return '';
    case 'saving':
      return t('exam_state_saving');
    case 'saved':
      return t('exam_state_saved');
    case 'offline':
      return t('exam_state_offline');
    case 'failed':
      return s.retrying
        ? t('exam_state_failed_retrying', { reason: s.reason })
        : t('exam_state_failed', { reason: s.reason });
  }
}

function SaveStatus({ state, id }: { state: SaveState; id: string }) {
  const text = saveStateText(state);
  const cls = state.kind === 'saved' ? 'saved' : state.kind === 'failed' ? 'failed' : 'pending';
  return (
    <p id={id} class={`save-state ${cls}`} data-state={state.kind}>
      {text || t('exam_state_unanswered')}
    </p>
  );
}

type InputProps = QuestionProps & { id: string };

function AnswerInput(p: InputProps) {
  switch (p.q.kind) {
    case 'single_choice':
      return <SingleChoice {...p} />;
    case 'multiple_choice':
      return <MultipleChoice {...p} />;
    case 'true_false':
      return <TrueFalse {...p} />;
    case 'numeric':
      return <Numeric {...p} />;
    case 'short_answer':
      return <ShortAnswer {...p} />;
    case 'matching':
      return <Matching {...p} />;
    case 'ordering':
      return <Ordering {...p} />;
    case 'fill_blanks':
      return <Blanks {...p} />;
    case 'essay':
      return <Essay {...p} />;
    case 'plugin':
      return <PluginQuestion {...p} />;
    default:
      // A kind this page does not know yet (a newer server): say so rather than guess.
      return (
        <>
          <Prompt text={p.q.prompt} />
          <p class="notice warn">{t('exam_kind_unsupported', { kind: p.q.kind })}</p>
        </>
      );
  }
}

function Prompt({ text, id }: { text: string; id?: string }) {
  return (
    <p class="prompt" id={id}>
      {text}
    </p>
  );
}

/** A fieldset whose legend is the prompt; the save state describes the group. */
function Group({ p, children, hint }: { p: InputProps; children: ComponentChildren; hint?: string }) {
  return (
    <fieldset class="answer" aria-describedby={`${p.id}-state`} disabled={p.disabled}>
      <legend class="prompt">{p.q.prompt}</legend>
      {hint && <p class="hint">{hint}</p>}
      {children}
    </fieldset>
  );
}

function SingleChoice(p: InputProps) {
  const chosen = p.answer && 'choices' in p.answer ? p.answer.choices[0] : undefined;
  return (
    <Group p={p}>
      {p.q.options.map((o) => (
        <label class="choice">
          <input
            type="radio"
            name={`${p.id}-choice`}
            value={o.id}
            checked={chosen === o.id}
            onChange={() => p.onAnswer({ choices: [o.id] }, false)}
          />
          <span>{o.text}</span>
        </label>
      ))}
    </Group>
  );
}

function MultipleChoice(p: InputProps) {
  const chosen = p.answer && 'choices' in p.answer ? p.answer.choices : [];
  const toggle = (id: string, on: boolean) => {
    const next = p.q.options.map((o) => o.id).filter((x) => (x === id ? on : chosen.includes(x)));
    p.onAnswer({ choices: next }, false);
  };
  return (
    <Group p={p} hint={t('exam_select_all')}>
      {p.q.options.map((o) => (
        <label class="choice">
          <input
            type="checkbox"
            name={`${p.id}-choice`}
            value={o.id}
            checked={chosen.includes(o.id)}
            onChange={(e) => toggle(o.id, e.currentTarget.checked)}
          />
          <span>{o.text}</span>
        </label>
      ))}
    </Group>
  );
}

function TrueFalse(p: InputProps) {
  const value = p.answer && 'boolean' in p.answer ? p.answer.boolean : undefined;
  return (
    <Group p={p}>
      {[true, false].map((b) => (
        <label class="choice">
          <input
            type="radio"
            name={`${p.id}-tf`}
            value={String(b)}
            checked={value === b}
            onChange={() => p.onAnswer({ boolean: b }, false)}
          />
          <span>{b ? t('exam_true') : t('exam_false')}</span>
        </label>
      ))}
    </Group>
  );
}

/** The number as typed back in this locale (no digit groups, every decimal kept). */
function formatEditable(n: number): string {
  return formatNumber(n, { useGrouping: false, maximumFractionDigits: 20 });
}

function Numeric(p: InputProps) {
  const saved = p.answer && 'number' in p.answer ? p.answer.number : undefined;
  const [raw, setRaw] = useState(saved ? formatEditable(saved.value) : '');
  const [unit, setUnit] = useState(saved?.unit ?? '');
  const [invalid, setInvalid] = useState(false);
  // An answer replaced from elsewhere (restored, another device): show it.
  useEffect(() => {
    if (saved && parseLocaleNumber(raw) !== saved.value) setRaw(formatEditable(saved.value));
    if (saved) setUnit(saved.unit ?? '');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [saved?.value, saved?.unit]);

  // Sends what parses; says so when what was typed does not, once the field is left.
  const send = (text: string, u: string, typing: boolean) => {
    const value = parseLocaleNumber(text);
    if (!Number.isFinite(value)) return;
    setInvalid(false);
    p.onAnswer({ number: { value, unit: u || null } }, typing);
  };
  return (
    <Group p={p}>
      <div class="row numeric">
        <div class="field">
          <label for={`${p.id}-value`}>{t('exam_number_value')}</label>
          <input
            id={`${p.id}-value`}
            type="text"
            inputMode="decimal"
            autocomplete="off"
            value={raw}
            aria-invalid={invalid}
            aria-describedby={invalid ? `${p.id}-invalid` : undefined}
            onInput={(e) => {
              setRaw(e.currentTarget.value);
              send(e.currentTarget.value, unit, true);
            }}
            onBlur={(e) => setInvalid(e.currentTarget.value.trim() !== '' && !Number.isFinite(parseLocaleNumber(e.currentTarget.value)))}
          />
        </div>
        {p.q.units.length > 0 && (
          <div class="field">
            <label for={`${p.id}-unit`}>{t('exam_number_unit')}</label>
            <select
              id={`${p.id}-unit`}
              value={unit}
              onChange={(e) => {
                setUnit(e.currentTarget.value);
                send(raw, e.currentTarget.value, false);
              }}
            >
              <option value="">{t('exam_unit_none')}</option>
              {p.q.units.map((u) => (
                <option value={u}>{u}</option>
              ))}
            </select>
          </div>
        )}
      </div>
      {invalid && (
        <p id={`${p.id}-invalid`} class="field-error">
          {t('exam_number_invalid')}
        </p>
      )}
    </Group>
  );
}

function ShortAnswer(p: InputProps) {
  const value = p.answer && 'text' in p.answer ? p.answer.text : '';
  return (
    <div class="field answer">
      <label for={`${p.id}-text`} class="prompt">
        {p.q.prompt}
      </label>
      <input
        id={`${p.id}-text`}
        type="text"
        autocomplete="off"
        spellcheck={false}
        value={value}
        disabled={p.disabled}
        aria-describedby={`${p.id}-state`}
        onInput={(e) => p.onAnswer({ text: e.currentTarget.value }, true)}
      />
    </div>
  );
}

function Essay(p: InputProps) {
  const value = p.answer && 'essay' in p.answer ? p.answer.essay : '';
  const words = value.trim() ? value.trim().split(/\s+/).length : 0;
  return (
    <div class="field answer">
      <label for={`${p.id}-essay`} class="prompt">
        {p.q.prompt}
      </label>
      <textarea
        id={`${p.id}-essay`}
        rows={8}
        value={value}
        disabled={p.disabled}
        aria-describedby={`${p.id}-state ${p.id}-words`}
        onInput={(e) => p.onAnswer({ essay: e.currentTarget.value }, true)}
      />
      <p id={`${p.id}-words`} class="hint">
        {tp('exam_words', words)}
      </p>
    </div>
  );
}

function Matching(p: InputProps) {
  const pairs = p.answer && 'pairs' in p.answer ? p.answer.pairs : [];
  const chosen = (left: string) => pairs.find((x) => x.left === left)?.right ?? '';
  const set = (left: string, right: string) => {
    const next = p.q.options
      .map((o) => ({ left: o.id, right: o.id === left ? right : chosen(o.id) }))
      .filter((x) => x.right !== '');
    p.onAnswer({ pairs: next }, false);
  };
  return (
    <Group p={p} hint={t('exam_match_hint')}>
      <div class="matching">
        {p.q.options.map((o, i) => (
          <div class="field match-row">
            <label for={`${p.id}-m${i}`}>{o.text}</label>
            <select id={`${p.id}-m${i}`} value={chosen(o.id)} onChange={(e) => set(o.id, e.currentTarget.value)}>
              <option value="">{t('exam_match_choose')}</option>
              {p.q.targets.map((x) => (
                <option value={x.id}>{x.text}</option>
              ))}
            </select>
          </div>
        ))}
      </div>
    </Group>
  );
}

function Ordering(p: InputProps) {
  const presented = p.q.options.map((o) => o.id);
  const saved = p.answer && 'sequence' in p.answer ? p.answer.sequence : undefined;
  // The saved order, with anything it lacks (it should lack nothing) after it.
  const order = saved
    ? [...saved.filter((x) => presented.includes(x)), ...presented.filter((x) => !saved.includes(x))]
    : presented;
  const text = (id: string) => p.q.options.find((o) => o.id === id)?.text ?? id;
  const focusNext = useRef<string | null>(null);

  useLayoutEffect(() => {
    // Keep the keyboard on the item that moved (on the other button at either end).
    const want = focusNext.current;
    focusNext.current = null;
    if (want) document.getElementById(want)?.focus();
  });

  const move = (index: number, by: -1 | 1) => {
    const to = index + by;
    if (to < 0 || to >= order.length) return;
    const next = [...order];
    const [item] = next.splice(index, 1);
    next.splice(to, 0, item!);
    // The same button again, unless the item reached the end where that one is disabled.
    const button = by < 0 ? (to === 0 ? 'down' : 'up') : to === next.length - 1 ? 'up' : 'down';
    focusNext.current = `${p.id}-${button}-${item}`;
    p.onAnswer({ sequence: next }, false);
    announce(t('exam_order_moved', { item: text(item!), position: to + 1, total: next.length }));
  };

  return (
    <Group p={p} hint={t('exam_order_hint')}>
      <ol class="ordering">
        {order.map((id, i) => (
          <li key={id} class="order-item">
            <span class="order-text" id={`${p.id}-item-${id}`}>
              {text(id)}
            </span>
            <span class="order-buttons">
              <button
                type="button"
                id={`${p.id}-up-${id}`}
                disabled={i === 0}
                aria-label={t('exam_order_up', { item: text(id) })}
                onClick={() => move(i, -1)}
              >
                <span aria-hidden="true">↑</span> {t('exam_order_up_short')}
              </button>
              <button
                type="button"
                id={`${p.id}-down-${id}`}
                disabled={i === order.length - 1}
                aria-label={t('exam_order_down', { item: text(id) })}
                onClick={() => move(i, 1)}
              >
                <span aria-hidden="true">↓</span> {t('exam_order_down_short')}
              </button>
            </span>
          </li>
        ))}
      </ol>
      {!saved && (
        <button type="button" class="link" onClick={() => p.onAnswer({ sequence: order }, false)}>
          {t('exam_order_keep')}
        </button>
      )}
    </Group>
  );
}

function Blanks(p: InputProps) {
  const saved = p.answer && 'blanks' in p.answer ? p.answer.blanks : [];
  const values = Array.from({ length: p.q.blanks }, (_, i) => saved[i] ?? '');
  return (
    <Group p={p}>
      <div class="blanks">
        {values.map((v, i) => (
          <div class="field">
            <label for={`${p.id}-b${i}`}>{t('exam_blank_n', { n: i + 1, total: p.q.blanks })}</label>
            <input
              id={`${p.id}-b${i}`}
              type="text"
              autocomplete="off"
              spellcheck={false}
              value={v}
              onInput={(e) => {
                const next = [...values];
                next[i] = e.currentTarget.value;
                p.onAnswer({ blanks: next }, true);
              }}
            />
          </div>
        ))}
      </div>
    </Group>
  );
}

/** The hints taken, and a button for the next one that states its cost and asks first. */
function Hints(p: InputProps) {
  const remaining = p.q.hints_available - p.hints.length;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const shownBefore = useRef(p.hints.length);

  // Focus moves happen before paint, so a key pressed right after lands on the new control.
  useLayoutEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  useLayoutEffect(() => {
    // A new hint: put the keyboard on it and read it out.
    if (p.hints.length > shownBefore.current) {
      document.getElementById(`${p.id}-hint-${p.hints.length - 1}`)?.focus();
      announce(p.hints[p.hints.length - 1] ?? '');
    }
    shownBefore.current = p.hints.length;
  }, [p.hints.length]);

  if (p.q.hints_available === 0) return null;
  const cost = formatNumber(p.perHint, { style: 'percent', maximumFractionDigits: 1 });
  const points = formatNumber(p.perHint * p.q.points, { maximumFractionDigits: 2 });
  const label = p.perHint > 0 ? t('exam_hint_button', { cost }) : t('exam_hint_button_free');

  async function take() {
    setBusy(true);
    setError(undefined);
    try {
      await p.onHint();
      setConfirming(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="hints">
      {p.hints.length > 0 && (
        <ol class="hint-list" aria-label={t('exam_hints_taken')}>
          {p.hints.map((h, i) => (
            <li id={`${p.id}-hint-${i}`} tabIndex={-1}>
              <strong>{t('exam_hint_n', { n: i + 1 })}</strong> {h}
            </li>
          ))}
        </ol>
      )}
      {remaining > 0 && !confirming && (
        <p class="row">
          <button
            type="button"
            ref={openerRef}
            disabled={p.disabled}
            aria-describedby={`${p.id}-hints-left`}
            onClick={() => (p.perHint > 0 ? setConfirming(true) : void take())}
          >
            {label}
          </button>
          <span id={`${p.id}-hints-left`} class="hint">
            {tp('exam_hints_left', remaining)}
          </span>
        </p>
      )}
      {confirming && (
        <div class="hint-confirm notice warn" role="group" aria-labelledby={`${p.id}-hint-q`}>
          <p id={`${p.id}-hint-q`}>{t('exam_hint_confirm', { cost, points })}</p>
          <p class="row">
            <button type="button" class="primary" ref={confirmRef} disabled={busy} onClick={() => void take()}>
              {busy ? t('exam_hint_busy') : t('exam_hint_take')}
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                window.setTimeout(() => openerRef.current?.focus(), 0);
              }}
            >
              {t('cancel')}
            </button>
          </p>
        </div>
      )}
      {error !== undefined && (
        <p class="field-error" role="alert">
          {describeError(error)}
        </p>
      )}
    </div>
  );
}

/** A question of a type a plugin provides: the plugin's view for this attempt
 *  (HTML the server sanitised: no script, no URL, forms that post nowhere),
 *  whose form fields are the answer. Typing in a text field is debounced like
 *  any text answer; choices and selects save at once. */
function PluginQuestion(p: InputProps) {
  const box = useRef<HTMLDivElement>(null);
  // The kernel sanitised the view (kernel/lectern-host/src/view.rs) and the server's
  // Content-Security-Policy forbids inline script; this is the third layer, as for course pages:
  // no script, no style, no URL, no id, no form that posts anywhere reaches the DOM.
  const html = p.q.view ? pluginHtml(p.q.view.html) : undefined;
  // The saved answer goes into the fields once, when the view is first in the page.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && p.answer && 'fields' in p.answer) fillFields(el, p.answer.fields as Fields);
  }, [html]);
  if (!html) {
    return (
      <>
        {p.q.prompt && <Prompt text={p.q.prompt} />}
        <p class="notice warn">{t('exam_plugin_unavailable')}</p>
      </>
    );
  }
  const changed = (typing: boolean) => {
    const el = box.current;
    if (el) p.onAnswer({ fields: readFields(el) }, typing);
  };
  const typing = (target: EventTarget | null) =>
    target instanceof HTMLTextAreaElement ||
    (target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'color', 'date', 'time'].includes(target.type));
  return (
    <fieldset class="answer plugin-view" aria-describedby={`${p.id}-state`} disabled={p.disabled}>
      {p.q.prompt && <legend class="prompt">{p.q.prompt}</legend>}
      <div
        ref={box}
        class="plugin-box"
        data-plugin={p.q.plugin ? `${p.q.plugin.plugin}/${p.q.plugin.type}` : undefined}
        // Sanitised twice (the kernel, then DOMPurify in pluginHtml); never anything else.
        dangerouslySetInnerHTML={{ __html: html }}
        onInput={(e) => changed(typing(e.target))}
        onChange={(e) => {
          if (!typing(e.target)) changed(false);
        }}
        onSubmit={(e) => e.preventDefault()}
        onKeyDown={(e) => {
          // Enter in a one-line field would submit a form: the answer is already saved as typed.
          if (e.key === 'Enter' && e.target instanceof HTMLInputElement) e.preventDefault();
        }}
      />
    </fieldset>
  );
}
