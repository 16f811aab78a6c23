// What a proctored attempt records and why, in plain words: shown on the start page
// before the student starts, and on the exam page while the attempt is open. It lists
// exactly what signals.ts collects and what the server adds, and what the policy's
// action does with the result.
import type { Schemas } from '../api/client';
import { t } from '../i18n';
import { formatSeconds } from './format';
import { DEFAULT_HEARTBEAT_MS } from './signals';

type Policy = Schemas['ProctoringPolicy'];

export function ProctoringNotice({ policy, headingLevel = 2 }: { policy: Policy; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const every = formatSeconds(Math.round((policy.heartbeat_interval_ms || DEFAULT_HEARTBEAT_MS) / 1000));
  const action =
    policy.action === 'lock_attempt'
      ? t('exam_proctor_action_lock')
      : policy.action === 'flag_for_review'
        ? t('exam_proctor_action_review')
        : t('exam_proctor_action_record');
  return (
    <section class="proctoring-notice notice warn" aria-labelledby="proctoring-notice-h">
      <Heading id="proctoring-notice-h">{t('exam_proctor_title')}</Heading>
      <p>{t('exam_proctor_intro')}</p>
      <ul>
        <li>{t('exam_proctor_visibility')}</li>
        <li>{t('exam_proctor_fullscreen')}</li>
        <li>{t('exam_proctor_clipboard')}</li>
        <li>{t('exam_proctor_heartbeat', { every })}</li>
      </ul>
      <p>{t('exam_proctor_server')}</p>
      <p>
        <strong>{t('exam_proctor_why_label')}</strong> {t('exam_proctor_why')}
      </p>
      <p>{action}</p>
      {policy.allow_copy_paste && <p>{t('exam_proctor_copy_allowed')}</p>}
      <p>{t('exam_proctor_not_recorded')}</p>
    </section>
  );
}
