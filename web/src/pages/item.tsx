// One item of a course, opened: a page (reader with table of contents), a video, a file, a
// link, an assessment or a plugin's activity. Opening it records progress (and completes items
// whose rule is `viewed`); items whose rule is `manual` get a "mark as complete" button.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, call, type Schemas } from '../api/client';
import { type Fields, pluginHtml, readFields } from '../components/plugin_view';
import { ErrorBox, Loading, PageTitle, announce, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t, tp } from '../i18n';
import { useSession } from '../session';
import { courseHtml } from './course_html';
import { loadCourse, loadOutline } from './course';
import { TutorPanel } from './tutor';
import {
  type AssessmentSummary,
  type Course,
  type StudentItem,
  type StudentOutline,
  AssessmentFacts,
  assessmentHref,
  courseAssessments,
  courseHref,
  formatPercent,
  itemHref,
  kindLabel,
  useFocusTitle,
} from './student_shared';

type ItemDetail = Schemas['ItemDetail'];
type Heading = Schemas['Heading'];

/** An item's completion rule. The OpenAPI document names it `Completion`, a name it also gives
 * the course-completion record, and types `Item.completion` as the latter; this is its real shape. */

interface ItemData {
  course: Course;
  outline: StudentOutline;
  /** The opened item; absent when it cannot be opened (`blocked` says why). */
  detail?: ItemDetail;
  blocked?: ApiError;
  /** The assessment an assessment item stands for. */
  assessment?: AssessmentSummary;
}

async function loadItem(institution: string, course: string, item: string): Promise<ItemData> {
  const coursePromise = loadCourse(institution, course);
  // Awaited below; until then a failure must not surface as an unhandled rejection.
  coursePromise.catch(() => {});
  let detail: ItemDetail | undefined;
  let blocked: ApiError | undefined;
  try {
    detail = await call(
      api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}', {
        params: { path: { institution, course_id: course, item_id: item } },
      }),
    );
  } catch (e) {
    // Locked (403, with the reason) and not released (404) are states of the item, not failures.
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) blocked = e;
    else throw e;
  }
  // After opening: the outline then shows what opening it completed and unlocked.
  const [c, outline] = await Promise.all([coursePromise, loadOutline(institution, course)]);
  let assessment: AssessmentSummary | undefined;
  if (detail?.item.body.type === 'assessment') {
    const id = detail.item.body.assessment;
    assessment = (await courseAssessments(institution, course)).find((a) => a.id === id);
  }
  return { course: c, outline, detail, blocked, assessment };
}

export function ItemPage({ course, item }: { course: string; item: string }) {
  const { institution } = useSession();
  const state = useLoad(() => loadItem(institution, course, item), [institution, course, item]);
  useFocusTitle(state.data !== undefined);
  if (state.error !== undefined && state.data === undefined) {
    return <ErrorBox error={state.error} onRetry={state.reload} />;
  }
  if (state.data === undefined) return <Loading />;
  const data = state.data;
  const listed = data.outline.modules.flatMap((m) => m.items).find((i) => i.id === item);
  const module = data.outline.modules.find((m) => m.items.some((i) => i.id === item));
  const title = data.detail?.item.title ?? listed?.title ?? t('st_item_unavailable');

  return (
    <>
      <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
        <ol>
          <li>
            <a href="/">{t('nav_dashboard')}</a>
          </li>
          <li>
            <a href={courseHref(course)}>{data.course.title}</a>
          </li>
          {module && <li>{module.title}</li>}
          <li>
            <span aria-current="page">{title}</span>
          </li>
        </ol>
      </nav>
      <PageTitle text={title} />
      {data.detail ? (
        <Opened
          course={course}
          detail={data.detail}
          assessment={data.assessment}
          onOutline={(outline) => state.set({ ...data, outline, detail: { ...data.detail!, completed: true } })}
          onActivityDone={() =>
            void loadOutline(institution, course).then((outline) =>
              state.set({ ...data, outline, detail: { ...data.detail!, completed: true } }),
            )
          }
        />
      ) : (
        <Blocked error={data.blocked!} listed={listed} />
      )}
      <PrevNext course={course} outline={data.outline} item={item} />
      <TutorDisclosure course={course} />
    </>
  );
}

/** Why an item cannot be opened: locked (with the reason from the outline) or not released. */
function Blocked({ error, listed }: { error: ApiError; listed?: StudentItem }) {
  if (error.status === 403) {
    return (
      <div class="notice warn" role="status">
        <p>
          <strong>{t('st_locked')}.</strong> {listed?.reason ?? error.message}
        </p>
      </div>
    );
  }
  return (
    <div class="notice" role="status">
      <p>{t('st_item_not_released')}</p>
    </div>
  );
}

function Opened({
  course,
  detail,
  assessment,
  onOutline,
  onActivityDone,
}: {
  course: string;
  detail: ItemDetail;
  assessment?: AssessmentSummary;
  onOutline: (o: StudentOutline) => void;
  /** The activity reported the learner complete: the outline (what it unlocked) changed. */
  onActivityDone: () => void;
}) {
  const item = detail.item;
  const body = item.body;
  return (
    <>
      <p class="muted item-meta">
        <span class="badge kind">{kindLabel(item.kind)}</span>
        {body.type === 'page' && <span>{tp('st_reading_time', Math.max(1, body.reading_minutes))}</span>}
        {item.release_at && <span>{t('st_released_on', { when: formatDateTime(item.release_at) })}</span>}
        {detail.completed && <span class="badge ok">{t('st_completed')}</span>}
      </p>
      {body.type === 'page' && <Reader html={detail.html ?? ''} toc={detail.toc} />}
      {body.type === 'media' && item.kind === 'video' && (
        <Video url={body.url} type={body.content_type} title={item.title} captions={detail.captions} />
      )}
      {body.type === 'media' && item.kind !== 'video' && (
        <p>
          <a class="button" href={body.url} download={body.filename ?? ''}>
            {t('st_download_file', { name: body.filename ?? item.title, size: formatSize(body.size) })}
          </a>
        </p>
      )}
      {body.type === 'link' && (
        <p>
          <a href={body.url} rel="noopener noreferrer" target="_blank">
            {t('st_open_link', { url: body.url })}
          </a>{' '}
          <span class="muted">{t('st_new_tab')}</span>
        </p>
      )}
      {body.type === 'assessment' && (
        <section aria-labelledby="assessment-h" class="card">
          <h2 id="assessment-h">{assessment?.title ?? item.title}</h2>
          {assessment ? <AssessmentFacts a={assessment} /> : <p class="muted">{t('st_assessment_unavailable')}</p>}
          <p>
            <a class="button primary" href={assessmentHref(course, body.assessment)}>
              {t('st_go_to_assessment')}
            </a>
          </p>
        </section>
      )}
      {body.type === 'activity' && (
        <Activity course={course} item={item.id} title={item.title} onDone={onActivityDone} />
      )}
      <Completion course={course} detail={detail} onOutline={onOutline} />
    </>
  );
}

type ActivityView = Schemas['ActivityView'];

/**
 * A plugin's activity: its view for this learner (sanitised by the kernel and again by
 * `pluginHtml`), refreshed after each action. An element with `data-action` is the only thing
 * that acts: using it sends the action, with the fields of the form around it, to the kernel's
 * own route, which answers with the next view. Plugin HTML never runs code here.
 */
function Activity({
  course,
  item,
  title,
  onDone,
}: {
  course: string;
  item: string;
  title: string;
  onDone: () => void;
}) {
  const { institution } = useSession();
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<ActivityView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const path = { institution, course_id: course, item_id: item };

  async function load() {
    setError(undefined);
    try {
      setView(
        await call(
          api.GET('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/activity', {
            params: { path },
          }),
        ),
      );
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    void load();
  }, [institution, course, item]);

  // After a new view replaces the old one, keyboard users continue from the first control in it.
  const refocus = useRef(false);
  useEffect(() => {
    const el = box.current;
    if (!el || !refocus.current) return;
    refocus.current = false;
    el.querySelector<HTMLElement>('[data-action], input, select, textarea')?.focus();
  }, [view]);

  async function act(target: HTMLElement) {
    const name = target.getAttribute('data-action');
    if (!name || busy || !box.current) return;
    const scope = target.closest('form') ?? box.current;
    const payload: Fields = box.current.contains(scope) ? readFields(scope) : {};
    setBusy(true);
    setError(undefined);
    const wasDone = view?.completed ?? false;
    try {
      const out = await call(
        api.POST('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/activity/actions', {
          params: { path },
          body: { action: name, payload },
        }),
      );
      refocus.current = box.current.contains(document.activeElement);
      // The action is kept; an empty view means the plugin could not draw the next one: ask again.
      if (out.view.html === '') void load();
      else setView(out.view);
      const said = [
        out.message,
        out.score ? t('st_activity_score', { points: formatNumber(out.score.points), max: formatNumber(out.score.max_points) }) : undefined,
      ]
        .filter(Boolean)
        .join(' ');
      setMessage(said || undefined);
      if (said) announce(said);
      if (out.view.completed && !wasDone) onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const unavailable = error instanceof ApiError && (error.status === 503 || error.status === 502);
  return (
    <section class="card activity" aria-label={t('st_activity_label', { title })} aria-busy={busy}>
      {view && (
        <div
          ref={box}
          class="plugin-box"
          // Sanitised twice (the kernel, then DOMPurify in pluginHtml); never anything else.
          dangerouslySetInnerHTML={{ __html: pluginHtml(view.html) }}
          onClick={(e) => {
            const target = (e.target as Element | null)?.closest<HTMLElement>('[data-action]');
            if (target && box.current?.contains(target)) {
              e.preventDefault();
              void act(target);
            }
          }}
          onSubmit={(e) => e.preventDefault()}
          onKeyDown={(e) => {
            // Enter in a one-line field acts like the form's first action, never a submission.
            if (e.key === 'Enter' && e.target instanceof HTMLInputElement) {
              e.preventDefault();
              const first = e.target.closest('form')?.querySelector<HTMLElement>('[data-action]');
              if (first) void act(first);
            }
          }}
        />
      )}
      {message && <p class="muted activity-message">{message}</p>}
      {unavailable ? (
        <div class="notice warn" role="status">
          <p>{t('st_activity_unavailable')}</p>
          <button type="button" onClick={() => void load()}>
            {t('st_activity_retry')}
          </button>
        </div>
      ) : (
        error !== undefined && <ErrorBox error={error} />
      )}
      {!view && error === undefined && <Loading />}
    </section>
  );
}

/** Bytes in the locale's units ("1.2 MB"). */
function formatSize(bytes: number): string {
  const [value, unit] =
    bytes >= 1_000_000 ? [bytes / 1_000_000, 'megabyte'] : bytes >= 1000 ? [bytes / 1000, 'kilobyte'] : [bytes, 'byte'];
  return formatNumber(value, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 });
}

/** The rendered page (sanitised, see course_html.ts) and its table of contents. */
/** The width at which the reader's columns fold into one (styles.css, `.reader-layout`). */
const WIDE = '(min-width: 50rem)';

function Reader({ html, toc }: { html: string; toc: Heading[] }) {
  const body = useRef<HTMLDivElement>(null);
  const [wide] = useState(() => window.matchMedia(WIDE).matches);
  useEffect(() => {
    const el = body.current;
    if (!el) return;
    el.replaceChildren(courseHtml(html));
    showTarget(el, true);
    const onHash = () => showTarget(el, false);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [html]);

  return (
    <div class={toc.length > 0 ? 'split reader-layout' : 'reader-layout'}>
      <article class="reader" aria-labelledby="page-title">
        <div class="page-body" ref={body} />
      </article>
      {toc.length > 0 && (
        <nav class="toc" aria-labelledby="toc-h">
          {/* Open beside the page on a wide screen; folded above it on a narrow one. */}
          <details open={wide}>
            <summary>
              <h2 id="toc-h">{t('st_toc')}</h2>
            </summary>
            <ol>
              {toc.map((h) => (
                <li key={h.anchor} class={`toc-l${Math.min(h.level, 4)}`}>
                  <a href={`#${h.anchor}`}>{h.text}</a>
                </li>
              ))}
            </ol>
          </details>
        </nav>
      )}
    </div>
  );
}

/**
 * Marks the element the URL's fragment names (a citation or a table-of-contents link). Arriving
 * from another page (the router changes the URL without the browser's own fragment handling),
 * it is also scrolled to and focused, so keyboard and screen-reader users start there.
 */
function showTarget(root: HTMLElement, arrive: boolean): void {
  root.querySelectorAll('.cited').forEach((e) => e.classList.remove('cited'));
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return;
  const target = document.getElementById(id);
  if (!target || !root.contains(target)) return;
  target.classList.add('cited');
  if (arrive) {
    target.setAttribute('tabindex', '-1');
    target.scrollIntoView({ block: 'start' });
    target.focus({ preventScroll: true });
  }
}

function Video({
  url,
  type,
  title,
  captions,
}: {
  url: string;
  type: string;
  title: string;
  captions: Schemas['CaptionTrack'][];
}) {
  return (
    <figure class="video">
      {/* Seeking fetches byte ranges of the file (the server answers Range requests with 206).
          The caption tracks are WebVTT course media, chosen in the player's own menu. */}
      <video controls preload="metadata" aria-label={title}>
        <source src={url} type={type} />
        {captions.map((c) => (
          <track key={c.media} kind="captions" src={c.url} srclang={c.lang} label={c.label} default={c.default} />
        ))}
      </video>
      <figcaption>
        <a href={url} download>
          {t('st_download_video')}
        </a>
      </figcaption>
    </figure>
  );
}

/** The item's completion: done, a button (manual rule), or what completes it. */
function Completion({
  course,
  detail,
  onOutline,
}: {
  course: string;
  detail: ItemDetail;
  onOutline: (o: StudentOutline) => void;
}) {
  const { institution } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const rule = detail.item.completion;

  async function complete() {
    setBusy(true);
    setError(undefined);
    try {
      const outline = await call(
        api.POST('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}/complete', {
          params: { path: { institution, course_id: course, item_id: detail.item.id } },
        }),
      );
      onOutline(outline);
      announce(t('st_marked_complete'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  let content;
  if (detail.completed) content = <p class="notice ok">{t('st_item_done')}</p>;
  else if (rule.kind === 'manual') {
    content = (
      <>
        <p>{t('st_manual_hint')}</p>
        <button type="button" class="primary" disabled={busy} onClick={() => void complete()}>
          {t('st_mark_complete')}
        </button>
      </>
    );
  } else if (rule.kind === 'min_score') {
    content = <p>{t('st_min_score_hint', { min: formatPercent(rule.min) })}</p>;
  } else if (rule.kind === 'reported') {
    content = <p>{t('st_reported_hint')}</p>;
  } else content = <p>{t('st_viewed_hint')}</p>;

  return (
    <section aria-labelledby="completion-h" class="completion">
      <h2 id="completion-h" class="visually-hidden">
        {t('st_completion_title')}
      </h2>
      <div role="status">{content}</div>
      {error !== undefined && <ErrorBox error={error} />}
    </section>
  );
}

/** Links to the previous and next items the student can open, in outline order. */
function PrevNext({ course, outline, item }: { course: string; outline: StudentOutline; item: string }) {
  const items = outline.modules.flatMap((m) => m.items);
  const at = items.findIndex((i) => i.id === item);
  if (at < 0) return null;
  const prev = items.slice(0, at).reverse().find((i) => !i.locked);
  const next = items.slice(at + 1).find((i) => !i.locked);
  if (!prev && !next) return null;
  return (
    <nav aria-label={t('st_prev_next')} class="prev-next">
      {prev ? (
        <a href={itemHref(course, prev.id)} rel="prev">
          <span class="muted">{t('st_previous')}</span> {prev.title}
        </a>
      ) : (
        <span />
      )}
      {next && (
        <a href={itemHref(course, next.id)} rel="next">
          <span class="muted">{t('st_next')}</span> {next.title}
        </a>
      )}
    </nav>
  );
}

/** The course's tutor, folded away under the item (loaded when opened). */
function TutorDisclosure({ course }: { course: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details class="tutor-details" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('st_tutor_open')}</summary>
      {open && <TutorPanel course={course} />}
    </details>
  );
}
