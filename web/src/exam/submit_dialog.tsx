// The submit confirmation: a modal <dialog> (the browser traps focus in it and closes
// it with Escape) that lists the questions left unanswered or incomplete, says how
// many answers are still being sent, and submits only once they are all saved.
import { useRef } from 'preact/hooks';
import { useModal } from '../components/modal';
import { describeError } from '../components/ui';
import { t, tp } from '../i18n';

export interface Missing {
  id: string;
  n: number;
  partial: boolean;
}

export interface SubmitDialogProps {
  open: boolean;
  missing: Missing[];
  /** Answers not yet acknowledged by the server. */
  unsent: number;
  busy: boolean;
  error: unknown;
  onCancel: () => void;
  onConfirm: () => void;
  /** Closes the dialog and moves to a question. */
  onGoTo: (question: string) => void;
}

export function SubmitDialog(p: SubmitDialogProps) {
  const keepRef = useRef<HTMLButtonElement>(null);
  // The safe choice has the focus; Submit is one Tab away.
  const ref = useModal({ open: p.open, busy: p.busy, onCancel: p.onCancel, focus: () => keepRef.current });

  const unanswered = p.missing.filter((m) => !m.partial);
  const partial = p.missing.filter((m) => m.partial);
  return (
    <dialog ref={ref} class="submit-dialog" aria-labelledby="submit-h" aria-describedby="submit-desc">
      <h2 id="submit-h">{t('exam_submit_title')}</h2>
      <div id="submit-desc">
        <p>{t('exam_submit_final')}</p>
        {p.missing.length === 0 && <p>{t('exam_submit_all_answered')}</p>}
      </div>
      {unanswered.length > 0 && (
        <>
          <p>{tp('exam_submit_unanswered', unanswered.length)}</p>
          <ul class="missing">
            {unanswered.map((m) => (
              <li>
                <button type="button" class="link" onClick={() => p.onGoTo(m.id)}>
                  {t('exam_go_to_question', { n: m.n })}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {partial.length > 0 && (
        <>
          <p>{tp('exam_submit_partial', partial.length)}</p>
          <ul class="missing">
            {partial.map((m) => (
              <li>
                <button type="button" class="link" onClick={() => p.onGoTo(m.id)}>
                  {t('exam_go_to_question', { n: m.n })}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {p.unsent > 0 && (
        <p class="notice warn" role="status">
          {tp('exam_submit_waiting', p.unsent)}
        </p>
      )}
      {p.error !== undefined && (
        <p class="notice error" role="alert">
          {describeError(p.error)}
        </p>
      )}
      <p class="row dialog-buttons">
        <button type="button" ref={keepRef} onClick={p.onCancel} disabled={p.busy}>
          {t('exam_submit_keep_working')}
        </button>
        <button type="button" class="primary" onClick={p.onConfirm} disabled={p.busy} aria-busy={p.busy}>
          {p.busy ? t('exam_submit_busy') : t('exam_submit_confirm')}
        </button>
      </p>
    </dialog>
  );
}
