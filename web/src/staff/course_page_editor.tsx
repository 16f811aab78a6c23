// /teach/courses/:course/edit/pages/:item — a page's Markdown and its preview.
//
// The preview is the content plugin's rendering, never a rendering made here. While the editor
// holds unsaved text, the page asks POST …/content/preview (the plugin renders it exactly as a
// save would, and nothing is stored or shown to students) half a second after the last keystroke;
// once saved, it shows the stored rendering. It is shown exactly as the student's page shows it:
// the same sanitiser (pages/course_html.ts) and the same reader styles.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t, tp } from '../i18n';
import { courseHtml } from '../pages/course_html';
import { useSession } from '../session';
import { type Course, type Outline, coursePath, getCourse, getOutline, ifMatch, isConflict, teachPaths } from './course_api';

type Page = Schemas['Page'];

async function getPage(institution: string, course: string, item: string): Promise<Page> {
  return call(
    api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/page', {
      params: { path: { ...coursePath(institution, course), item_id: item } },
    }),
  );
}

export function PageEditor({ course, item }: { course: string; item: string }) {
  const { institution } = useSession();
  const state = useLoad(async () => {
    const [c, outline, page] = await Promise.all([
      getCourse(institution, course),
      getOutline(institution, course),
      getPage(institution, course, item),
    ]);
    return { course: c, outline, page };
  }, [institution, course, item]);
  return (
    <Async state={state}>
      {(d) => <Editor courseId={course} itemId={item} course={d.course} initialOutline={d.outline} initialPage={d.page} />}
    </Async>
  );
}

function Editor({
  courseId,
  itemId,
  course,
  initialOutline,
  initialPage,
}: {
  courseId: string;
  itemId: string;
  course: Course;
  initialOutline: Outline;
  initialPage: Page;
}) {
  const { institution } = useSession();
  const [outline, setOutline] = useState(initialOutline);
  const [page, setPage] = useState(initialPage);
  const [text, setText] = useState(initialPage.markdown);
  // The plugin's rendering of unsaved text, and the text it is of.
  const [live, setLive] = useState<{ of: string; html: string; words: number; reading_minutes: number } | null>(null);
  const [liveError, setLiveError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  /** Set after a 412: whether this page itself changed (or only something else in the outline). */
  const [conflict, setConflict] = useState<{ pageChanged: boolean } | undefined>(undefined);
  const item = outline.modules.flatMap((m) => m.items).find((i) => i.id === itemId);
  const title = item?.title ?? itemId;
  const dirty = text !== page.markdown;
  useEffect(() => {
    if (!dirty) return;
    const timer = window.setTimeout(() => {
      call(
        api.POST('/api/v1/institutions/{institution}/courses/{course_id}/content/preview', {
          params: { path: coursePath(institution, courseId) },
          body: { markdown: text },
        }),
      ).then(
        (r) => {
          setLive({ of: text, html: r.html, words: r.words, reading_minutes: r.reading_minutes });
          setLiveError(undefined);
        },
        (e) => setLiveError(e),
      );
    }, 500);
    return () => window.clearTimeout(timer);
  }, [text, dirty]);
  const shown = dirty && live?.of === text ? live : page;

  // Unsaved text is not lost to a closed tab without the browser asking.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  async function save() {
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    try {
      await call(
        api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}', {
          params: { path: { ...coursePath(institution, courseId), item_id: itemId } },
          headers: ifMatch(outline.version),
          body: { markdown: text },
        }),
      );
      const [o, p] = await Promise.all([getOutline(institution, courseId), getPage(institution, courseId, itemId)]);
      setOutline(o);
      setPage(p);
      announce(t('sc_page_saved'));
    } catch (e) {
      if (isConflict(e)) {
        // Someone changed the outline since it was read: read it (and this page) again. The
        // editor keeps the author's text; saving again applies it on top of the new version.
        try {
          const [o, p] = await Promise.all([getOutline(institution, courseId), getPage(institution, courseId, itemId)]);
          setOutline(o);
          setConflict({ pageChanged: p.markdown !== page.markdown });
          setPage(p);
        } catch (e2) {
          setError(e2);
        }
        announce(t('sc_conflict_title'));
      } else setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
        <ol>
          <li>
            <a href={teachPaths.home}>{t('nav_teaching')}</a>
          </li>
          <li>
            <a href={teachPaths.editor(courseId)}>{course.title}</a>
          </li>
          <li>
            <span aria-current="page">{title}</span>
          </li>
        </ol>
      </nav>
      <PageTitle text={t('sc_page_editor_title', { title })} />
      <p class="row">
        <a href={teachPaths.studentItem(courseId, itemId)}>{t('sc_page_open_as_student')}</a>
        <span class="muted">{t('sc_rendered_by', { plugin: page.rendered_by })}</span>
      </p>
      {conflict && (
        <div class="notice warn" role="alert" id="page-conflict">
          <p>
            <strong>{t('sc_conflict_title')}</strong>{' '}
            {conflict.pageChanged ? t('sc_page_conflict_page') : t('sc_page_conflict_outline')}
          </p>
          <p class="row">
            <button type="button" class="primary" onClick={() => void save()}>
              {t('sc_page_conflict_keep_mine')}
            </button>
            {conflict.pageChanged && (
              <button
                type="button"
                onClick={() => {
                  setText(page.markdown);
                  setConflict(undefined);
                }}
              >
                {t('sc_page_conflict_take_theirs')}
              </button>
            )}
          </p>
        </div>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      <div class="sc-page-editor">
        <section aria-labelledby="markdown-h">
          <h2 id="markdown-h">{t('sc_page_markdown')}</h2>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label for="page-markdown" class="visually-hidden">
              {t('sc_page_markdown')}
            </label>
            <textarea
              id="page-markdown"
              class="sc-markdown"
              value={text}
              spellcheck
              aria-describedby="page-markdown-hint"
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <p class="hint" id="page-markdown-hint">
              {t('sc_page_markdown_hint')}
            </p>
            <p class="row">
              <button type="submit" class="primary" disabled={busy || (!dirty && !conflict)}>
                {t('sc_page_save')}
              </button>
              <button type="button" disabled={busy || !dirty} onClick={() => setText(page.markdown)}>
                {t('sc_page_revert')}
              </button>
              <span class="muted">{t('sc_updated_at', { when: formatDateTime(page.updated_at) })}</span>
            </p>
          </form>
        </section>
        <section aria-labelledby="preview-h" class="sc-preview">
          <h2 id="preview-h">{t('sc_preview_title')}</h2>
          <p class={dirty ? 'notice warn' : 'hint'} role="status" id="preview-state">
            {!dirty ? t('sc_preview_current') : live?.of === text ? t('sc_preview_live') : t('sc_preview_updating')}
          </p>
          {liveError !== undefined && <ErrorBox error={liveError} />}
          <p class="hint">
            {tp('st_reading_time', Math.max(1, shown.reading_minutes))} · {t('sc_words', { n: formatNumber(shown.words) })}
          </p>
          <Preview html={shown.html} />
        </section>
      </div>
    </>
  );
}

/** The plugin's HTML as the student's reader shows it (same sanitiser, same classes). */
function Preview({ html }: { html: string }) {
  const body = useRef<HTMLDivElement>(null);
  useEffect(() => {
    body.current?.replaceChildren(courseHtml(html));
  }, [html]);
  return (
    <article class="reader" aria-labelledby="preview-h">
      <div class="page-body" ref={body} id="page-preview" />
    </article>
  );
}
