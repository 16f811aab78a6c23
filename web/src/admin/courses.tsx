// Courses: every course of the institution with its state, creating a draft, publishing a
// draft and archiving a course (read-only for students, no new attempts).
import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, announce, useLoad } from '../components/ui';
import { type MessageKey, formatDateTime, t, tp } from '../i18n';
import { ScrollTable, courseHref } from '../pages/student_shared';
import { AdminPage, ConfirmDialog, Outcome, listAll, useCaps, useConfirm, useTargetInstitution } from './shared';

type Course = Schemas['Course'];

const STATE_KEYS: Record<Course['state'], MessageKey> = {
  draft: 'ad_course_draft',
  published: 'ad_course_published',
  archived: 'ad_course_archived',
};
const STATE_BADGE: Record<Course['state'], string> = { draft: 'warn', published: 'ok', archived: '' };

export function CoursesPage() {
  const target = useTargetInstitution();
  const caps = useCaps();
  const courses = useLoad(
    () =>
      listAll((cursor) =>
        call(
          api.GET('/api/v1/institutions/{institution}/courses', {
            params: { path: { institution: target.institution }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
          }),
        ),
      ),
    [target.institution],
  );
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const confirm = useConfirm<{ kind: 'archive' | 'publish'; course: Course }>();

  async function run(a: { kind: 'archive' | 'publish'; course: Course }) {
    const params = { params: { path: { institution: target.institution, course_id: a.course.id } } };
    if (a.kind === 'archive') await call(api.POST('/api/v1/institutions/{institution}/courses/{course_id}/archive', params));
    else await call(api.POST('/api/v1/institutions/{institution}/courses/{course_id}/publish', params));
    const text = t(a.kind === 'archive' ? 'ad_course_archived_done' : 'ad_course_published_done', { title: a.course.title });
    setOutcome(text);
    announce(text);
    courses.reload();
  }

  const p = confirm.pending;
  return (
    <AdminPage console="courses" title={t('ad_courses_title')}>
      {target.picker}
      {caps.has('course:create') && (
        <CreateCourse
          institution={target.institution}
          onCreated={(c) => {
            const text = t('ad_course_created', { title: c.title, code: c.code });
            setOutcome(text);
            announce(text);
            courses.reload();
          }}
        />
      )}
      <section aria-labelledby="ad-courses-h" class="ad-section">
        <h2 id="ad-courses-h">{t('ad_courses_list')}</h2>
        <Outcome text={outcome} />
        <Async state={courses}>
          {(list) => (
            <>
              <p class="hint">{tp('ad_courses_count', list.length)}</p>
              <ScrollTable label={t('ad_courses_list')}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t('ad_course_code')}</th>
                      <th scope="col">{t('ad_course_title')}</th>
                      <th scope="col">{t('ad_course_state')}</th>
                      <th scope="col">{t('ad_course_updated')}</th>
                      <th scope="col">{t('ad_actions')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...list]
                      .sort((a, b) => a.code.localeCompare(b.code))
                      .map((c) => (
                        <tr key={c.id} data-code={c.code}>
                          <td>{c.code}</td>
                          <th scope="row">
                            <a href={courseHref(c.id)}>{c.title}</a>
                          </th>
                          <td>
                            <span class={`badge ${STATE_BADGE[c.state]}`}>{t(STATE_KEYS[c.state])}</span>
                          </td>
                          <td>{formatDateTime(c.updated_at)}</td>
                          <td class="ad-actions">
                            {c.state === 'draft' && caps.has('course:publish') && (
                              <button type="button" onClick={() => confirm.ask({ kind: 'publish', course: c })}>
                                {t('ad_course_publish')}
                                <span class="visually-hidden"> {c.title}</span>
                              </button>
                            )}
                            {c.state !== 'archived' && caps.has('course:edit') && (
                              <button type="button" onClick={() => confirm.ask({ kind: 'archive', course: c })}>
                                {t('ad_course_archive')}
                                <span class="visually-hidden"> {c.title}</span>
                              </button>
                            )}
                          </td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </ScrollTable>
            </>
          )}
        </Async>
      </section>
      <ConfirmDialog
        open={p !== undefined}
        title={t(p?.kind === 'publish' ? 'ad_course_publish_title' : 'ad_course_archive_title', { title: p?.course.title ?? '' })}
        confirmLabel={t(p?.kind === 'publish' ? 'ad_course_publish' : 'ad_course_archive')}
        danger={p?.kind === 'archive'}
        busy={confirm.busy}
        error={confirm.error}
        onCancel={confirm.cancel}
        onConfirm={() => void confirm.confirm(run)}
      >
        <p>{t(p?.kind === 'publish' ? 'ad_course_publish_effect' : 'ad_course_archive_effect', { title: p?.course.title ?? '', code: p?.course.code ?? '' })}</p>
      </ConfirmDialog>
    </AdminPage>
  );
}

function CreateCourse({ institution, onCreated }: { institution: string; onCreated: (c: Course) => void }) {
  const [code, setCode] = useState('');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const c = await call(
        api.POST('/api/v1/institutions/{institution}/courses', {
          params: { path: { institution } },
          body: { code: code.trim(), title: title.trim(), description },
        }),
      );
      setCode('');
      setTitle('');
      setDescription('');
      onCreated(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="ad-create-course-h" class="card ad-section">
      <h2 id="ad-create-course-h">{t('ad_course_create_title')}</h2>
      <p class="hint">{t('ad_course_create_hint')}</p>
      <form onSubmit={submit} class="ad-form">
        <label class="field">
          <span>{t('ad_course_code')}</span>
          <input type="text" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('ad_course_title')}</span>
          <input type="text" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label class="field ad-wide">
          <span>{t('ad_course_description')}</span>
          <textarea rows={3} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('ad_working') : t('ad_course_create')}
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
    </section>
  );
}
