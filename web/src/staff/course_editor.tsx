// /teach/courses/:course/edit — the course editor: modules and items (add, rename, delete,
// settings), reordering by drag and drop and by keyboard (move up/down buttons), the course's
// files (course_media.tsx) and its completion rule.
//
// Every change to the outline is a "change": a named intent that runs against the outline as the
// page knows it and sends its version as `If-Match`. When the server answers 412 (someone else
// changed the outline meanwhile), the page reloads the outline, says so, and offers to apply the
// same intent again on top of the new version: a reorder is recomputed from the fresh outline, a
// rename is sent again. Nothing is overwritten without the author asking.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { Async, ErrorBox, PageTitle, announce, useLoad } from '../components/ui';
import { formatDateTime, formatNumber, t, tp } from '../i18n';
import { kindLabel } from '../pages/student_shared';
import { useSession } from '../session';
import {
  type AssessmentSummary,
  type Course,
  type Item,
  type ItemCompletion,
  type ItemKind,
  type Media,
  type Module,
  type Outline,
  type Prerequisite,
  coursePath,
  fromLocalInput,
  getActivityKinds,
  getAssessments,
  getCourse,
  getMedia,
  getOutline,
  ifMatch,
  isConflict,
  teachPaths,
  toLocalInput,
} from './course_api';
import { type ActivityKind, ActivitySettingsForm, emptyFor } from './activity_settings';
import { CompletionRuleEditor } from './course_completion';
import { CaptionsEditor } from './course_captions';
import { MediaLibrary, MediaSelect } from './course_media';
import { courseStateLabel } from './teach_home';

/** A change to the outline: what it is (for the conflict notice) and how to make it. */
interface Change {
  label: string;
  /** Runs against the outline as the page knows it; returns the new outline when the API gave one. */
  run: (o: Outline) => Promise<Outline | undefined>;
  /** Announced when it succeeds. */
  done: string;
  /** An element to focus afterwards (its id, or worked out from the new outline), e.g. the moved item's button. */
  focus?: string | ((o: Outline) => string | undefined);
}

type OrderEntry = { id: string; items: string[] };

function orderOf(o: Outline): OrderEntry[] {
  return o.modules.map((m) => ({ id: m.id, items: m.items.map((i) => i.id) }));
}

/** Moves an item to `index` in module `to` (clamped), in a copy of the order. */
function moveItemTo(order: OrderEntry[], item: string, to: string, index: number): OrderEntry[] {
  const next = order.map((m) => ({ id: m.id, items: m.items.filter((i) => i !== item) }));
  const target = next.find((m) => m.id === to);
  if (!target) return order;
  target.items.splice(Math.max(0, Math.min(index, target.items.length)), 0, item);
  return next;
}

/** Where an item goes one step up or down: within its module, or across into the neighbour. */
function stepItem(order: OrderEntry[], item: string, delta: -1 | 1): OrderEntry[] | undefined {
  const mi = order.findIndex((m) => m.items.includes(item));
  if (mi < 0) return undefined;
  const at = order[mi]!.items.indexOf(item);
  const within = at + delta;
  if (within >= 0 && within < order[mi]!.items.length) return moveItemTo(order, item, order[mi]!.id, within);
  const neighbour = order[mi + delta];
  if (!neighbour) return undefined;
  return moveItemTo(order, item, neighbour.id, delta < 0 ? neighbour.items.length : 0);
}

function moveModule(order: OrderEntry[], module: string, index: number): OrderEntry[] {
  const m = order.find((x) => x.id === module);
  if (!m) return order;
  const rest = order.filter((x) => x.id !== module);
  rest.splice(Math.max(0, Math.min(index, rest.length)), 0, m);
  return rest;
}

function itemTitle(o: Outline, id: string): string {
  for (const m of o.modules) for (const i of m.items) if (i.id === id) return i.title;
  return id;
}

export function CourseEditor({ course }: { course: string }) {
  const { institution } = useSession();
  const base = useLoad(
    async () => {
      const [c, outline, assessments, media, activityKinds] = await Promise.all([
        getCourse(institution, course),
        getOutline(institution, course),
        getAssessments(institution, course),
        getMedia(institution, course),
        getActivityKinds(institution),
      ]);
      return { course: c, outline, assessments, media, activityKinds };
    },
    [institution, course],
  );
  return (
    <Async state={base}>
      {(d) => (
        <Editor
          courseId={course}
          initialCourse={d.course}
          initialOutline={d.outline}
          assessments={d.assessments}
          initialMedia={d.media}
          activityKinds={d.activityKinds}
        />
      )}
    </Async>
  );
}

function Editor({
  courseId,
  initialCourse,
  initialOutline,
  assessments,
  initialMedia,
  activityKinds,
}: {
  courseId: string;
  initialCourse: Course;
  initialOutline: Outline;
  assessments: AssessmentSummary[];
  initialMedia: Media[];
  activityKinds: ActivityKind[];
}) {
  const { institution } = useSession();
  const path = coursePath(institution, courseId);
  const [course, setCourse] = useState(initialCourse);
  const [outline, setOutline] = useState(initialOutline);
  const [media, setMedia] = useState(initialMedia);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Change | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  // What is being dragged: state for the styles, a ref for the event handlers (a drop may come
  // before the re-render that follows dragstart).
  const [dragging, setDraggingState] = useState<Dragged | undefined>(undefined);
  const dragRef = useRef<Dragged | undefined>(undefined);
  const setDragging = (d: Dragged | undefined) => {
    dragRef.current = d;
    setDraggingState(d);
  };
  const current = useRef(outline);
  current.current = outline;
  const focusNext = useRef<string | undefined>(undefined);

  // After a change re-renders the outline, focus what the change asked for (the moved item's button),
  // before the browser paints: keyboard users never see focus drop to the page in between.
  useLayoutEffect(() => {
    const id = focusNext.current;
    if (!id) return;
    focusNext.current = undefined;
    const el = document.getElementById(id) as HTMLElement | null;
    if (el && !(el as HTMLButtonElement).disabled) el.focus();
  }, [outline]);

  async function reload(): Promise<Outline> {
    const o = await getOutline(institution, courseId);
    setOutline(o);
    return o;
  }

  const running = useRef(false);

  async function apply(change: Change) {
    // One change at a time; a second click while one runs does nothing (the buttons stay
    // enabled, so the keyboard focus stays where it is).
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    try {
      const next = (await change.run(current.current)) ?? (await getOutline(institution, courseId));
      const f = typeof change.focus === 'function' ? change.focus(next) : change.focus;
      focusNext.current = f;
      setOutline(next);
      announce(change.done);
    } catch (e) {
      if (isConflict(e)) {
        // Someone else changed the outline: show theirs, keep ours to apply again on purpose.
        try {
          await reload();
        } catch (e2) {
          setError(e2);
        }
        setConflict(change);
        announce(t('sc_conflict_title'));
      } else {
        setError(e);
      }
    } finally {
      running.current = false;
      setBusy(false);
    }
  }

  const reorder = (label: string, done: string, compute: (o: Outline) => OrderEntry[] | undefined, focus?: Change['focus']) =>
    void apply({
      label,
      done,
      focus,
      run: async (o) => {
        const order = compute(o);
        if (!order) return o;
        return call(
          api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/content/order', {
            params: { path },
            headers: ifMatch(o.version),
            body: { modules: order },
          }),
        );
      },
    });

  function moveItem(item: string, delta: -1 | 1) {
    const title = itemTitle(current.current, item);
    const dir = delta < 0 ? 'up' : 'down';
    reorder(
      t(delta < 0 ? 'sc_change_move_up' : 'sc_change_move_down', { title }),
      t('sc_moved', { title }),
      (o) => stepItem(orderOf(o), item, delta),
      (o) => {
        // Keep focus on the same button, or on its twin when the item reached an end.
        const flat = orderOf(o).flatMap((m) => m.items);
        const at = flat.indexOf(item);
        const atEnd = dir === 'up' ? at === 0 : at === flat.length - 1;
        return `item-${dir === 'up' ? (atEnd ? 'down' : 'up') : atEnd ? 'up' : 'down'}-${item}`;
      },
    );
  }

  function moveMod(module: string, delta: -1 | 1) {
    const m = current.current.modules.find((x) => x.id === module);
    const title = m?.title ?? module;
    reorder(
      t(delta < 0 ? 'sc_change_move_up' : 'sc_change_move_down', { title }),
      t('sc_moved', { title }),
      (o) => {
        const order = orderOf(o);
        const at = order.findIndex((x) => x.id === module);
        if (at < 0 || at + delta < 0 || at + delta >= order.length) return undefined;
        return moveModule(order, module, at + delta);
      },
      (o) => {
        const at = o.modules.findIndex((x) => x.id === module);
        const last = o.modules.length - 1;
        const dir = delta < 0 ? (at === 0 ? 'down' : 'up') : at === last ? 'up' : 'down';
        return `module-${dir}-${module}`;
      },
    );
  }

  /** A drop: an item or a module dragged onto an item row, a module's list end, or a module. */
  function drop(target: { module: string; before?: string }) {
    const d = dragRef.current;
    setDragging(undefined);
    if (!d) return;
    if (d.kind === 'item') {
      const title = itemTitle(current.current, d.id);
      reorder(t('sc_change_drag', { title }), t('sc_moved', { title }), (o) => {
        const order = orderOf(o);
        const m = order.find((x) => x.id === target.module);
        if (!m || target.before === d.id) return undefined;
        const without = m.items.filter((i) => i !== d.id);
        const index = target.before ? without.indexOf(target.before) : without.length;
        return moveItemTo(order, d.id, target.module, index < 0 ? without.length : index);
      });
    } else {
      const title = current.current.modules.find((x) => x.id === d.id)?.title ?? d.id;
      reorder(t('sc_change_drag', { title }), t('sc_moved', { title }), (o) => {
        const order = orderOf(o);
        if (d.id === target.module) return undefined;
        const without = order.filter((x) => x.id !== d.id);
        const index = without.findIndex((x) => x.id === target.module);
        return moveModule(order, d.id, index);
      });
    }
  }

  async function publish() {
    setBusy(true);
    setError(undefined);
    try {
      setCourse(
        await call(api.POST('/api/v1/institutions/{institution}/courses/{course_id}/publish', { params: { path } })),
      );
      announce(t('sc_published'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const ctx: EditorCtx = {
    courseId,
    outline,
    assessments,
    activityKinds,
    media,
    busy,
    dragging,
    dragged: () => dragRef.current,
    apply: (c) => void apply(c),
    moveItem,
    moveModule: moveMod,
    startDrag: setDragging,
    drop,
  };

  return (
    <>
      <nav aria-label={t('st_breadcrumbs')} class="breadcrumbs">
        <ol>
          <li>
            <a href={teachPaths.home}>{t('nav_teaching')}</a>
          </li>
          <li>
            <span aria-current="page">{course.title}</span>
          </li>
        </ol>
      </nav>
      <PageTitle text={t('sc_editor_title', { course: course.title })} />
      <p class="row">
        <span id="course-state" class={`badge${course.state === 'published' ? ' ok' : ''}`}>
          {courseStateLabel(course.state)}
        </span>
        {course.state === 'draft' && (
          <button type="button" class="primary" disabled={busy} onClick={() => void publish()}>
            {t('sc_publish_course')}
          </button>
        )}
        <a href={teachPaths.studentCourse(courseId)}>{t('sc_link_student_view')}</a>
        <a href={teachPaths.newQuiz(courseId)}>{t('sc_link_new_quiz')}</a>
        <a href={teachPaths.enrolment(courseId)}>{t('sc_link_enrolment')}</a>
      </p>
      <p class="hint">{t('sc_editor_intro')}</p>

      {conflict && (
        <div class="notice warn" role="alert" id="outline-conflict">
          <p>
            <strong>{t('sc_conflict_title')}</strong> {t('sc_conflict_body', { change: conflict.label })}
          </p>
          <p class="row">
            <button type="button" class="primary" onClick={() => void apply(conflict)}>
              {t('sc_conflict_reapply')}
            </button>
            <button type="button" onClick={() => setConflict(undefined)}>
              {t('sc_conflict_discard')}
            </button>
          </p>
        </div>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      <p class="muted" id="outline-version">
        {t('sc_outline_version', { version: outline.version })}
        {outline.updated_at ? ` · ${t('sc_updated_at', { when: formatDateTime(outline.updated_at) })}` : ''}
      </p>

      <section aria-labelledby="outline-h" class="sc-outline">
        <h2 id="outline-h">{t('sc_outline_title')}</h2>
        <p class="hint" id="reorder-hint">
          {t('sc_reorder_hint')}
        </p>
        {outline.modules.length === 0 && <p class="muted">{t('sc_outline_empty')}</p>}
        <ol class="plain sc-modules">
          {outline.modules.map((m, i) => (
            <ModuleBlock key={m.id} ctx={ctx} module={m} index={i} />
          ))}
        </ol>
        <AddModule ctx={ctx} />
      </section>

      <section aria-labelledby="quizzes-h" class="sc-quizzes">
        <h2 id="quizzes-h">{t('sc_quizzes_title')}</h2>
        {assessments.length === 0 ? (
          <p class="muted">{t('sc_quizzes_none')}</p>
        ) : (
          <ul class="plain stack">
            {assessments.map((a) => (
              <li key={a.id}>
                <a href={teachPaths.quiz(courseId, a.id)}>{a.title}</a>{' '}
                <span class={`badge${a.published ? ' ok' : ''}`}>
                  {a.archived_at ? t('sc_state_archived') : a.published ? t('sc_state_published') : t('sc_state_draft')}
                </span>{' '}
                <span class="muted">{tp('sc_quiz_preview_count', a.questions)}</span>
              </li>
            ))}
          </ul>
        )}
        <p>
          <a class="button" href={teachPaths.newQuiz(courseId)}>
            {t('sc_link_new_quiz')}
          </a>
        </p>
      </section>

      <MediaLibrary courseId={courseId} media={media} onChange={setMedia} />
      <CompletionRuleEditor courseId={courseId} assessments={assessments} />
    </>
  );
}

type Dragged = { kind: 'item' | 'module'; id: string };

interface EditorCtx {
  courseId: string;
  outline: Outline;
  assessments: AssessmentSummary[];
  activityKinds: ActivityKind[];
  media: Media[];
  busy: boolean;
  dragging?: Dragged;
  /** What is being dragged right now (for event handlers). */
  dragged: () => Dragged | undefined;
  apply: (c: Change) => void;
  moveItem: (item: string, delta: -1 | 1) => void;
  moveModule: (module: string, delta: -1 | 1) => void;
  startDrag: (d: Dragged | undefined) => void;
  drop: (target: { module: string; before?: string }) => void;
}

/** ↑ and ↓ for a module or an item, named after it; their ids let focus follow a move. */
function MoveButtons({
  kind,
  id,
  title,
  first,
  last,
  onMove,
}: {
  kind: 'module' | 'item';
  id: string;
  title: string;
  first: boolean;
  last: boolean;
  onMove: (delta: -1 | 1) => void;
}) {
  return (
    <span class="sc-buttons">
      <button
        type="button"
        id={`${kind}-up-${id}`}
        disabled={first}
        aria-label={t('sc_move_up_named', { title })}
        aria-describedby="reorder-hint"
        onClick={() => onMove(-1)}
      >
        ↑
      </button>
      <button
        type="button"
        id={`${kind}-down-${id}`}
        disabled={last}
        aria-label={t('sc_move_down_named', { title })}
        aria-describedby="reorder-hint"
        onClick={() => onMove(1)}
      >
        ↓
      </button>
    </span>
  );
}

function usePath() {
  const { institution } = useSession();
  return (course: string) => coursePath(institution, course);
}

function ModuleBlock({ ctx, module: m, index }: { ctx: EditorCtx; module: Module; index: number }) {
  const path = usePath()(ctx.courseId);
  const [over, setOver] = useState(false);
  const headingId = `module-h-${m.id}`;
  const first = index === 0;
  const last = index === ctx.outline.modules.length - 1;
  const flat = ctx.outline.modules.flatMap((x) => x.items.map((i) => i.id));

  return (
    <li
      class={`sc-module card${over ? ' drop-target' : ''}`}
      aria-labelledby={headingId}
      data-module={m.id}
      onDragOver={(e) => {
        if (ctx.dragged()) {
          e.preventDefault();
          setOver(true);
        }
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        ctx.drop({ module: m.id });
      }}
    >
      <div class="sc-module-head">
        <span
          class="sc-handle"
          draggable
          title={t('sc_drag_handle', { title: m.title })}
          aria-hidden="true"
          onDragStart={(e) => {
            e.dataTransfer?.setData('text/plain', m.id);
            ctx.startDrag({ kind: 'module', id: m.id });
          }}
          onDragEnd={() => ctx.startDrag(undefined)}
        >
          ⠿
        </span>
        <h3 id={headingId}>{m.title}</h3>
        {m.release_at && <span class="badge">{t('sc_released_from', { when: formatDateTime(m.release_at) })}</span>}
        <MoveButtons kind="module" id={m.id} title={m.title} first={first} last={last} onMove={(d) => ctx.moveModule(m.id, d)} />
      </div>
      <ModuleSettings ctx={ctx} module={m} path={path} />
      {m.items.length === 0 ? (
        <p class="muted sc-empty-drop">{t('sc_module_empty')}</p>
      ) : (
        <ol class="plain sc-items">
          {m.items.map((item) => (
            <ItemRow
              key={item.id}
              ctx={ctx}
              item={item}
              module={m}
              first={flat[0] === item.id}
              last={flat[flat.length - 1] === item.id}
            />
          ))}
        </ol>
      )}
      <AddItem ctx={ctx} module={m} />
    </li>
  );
}

function ModuleSettings({
  ctx,
  module: m,
  path,
}: {
  ctx: EditorCtx;
  module: Module;
  path: ReturnType<typeof coursePath>;
}) {
  const [title, setTitle] = useState(m.title);
  const [release, setRelease] = useState(toLocalInput(m.release_at));
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    setTitle(m.title);
    setRelease(toLocalInput(m.release_at));
  }, [m.title, m.release_at]);
  const base = `module-${m.id}`;

  function save(e: Event) {
    e.preventDefault();
    const body: { title?: string; release_at?: string | null } = {};
    if (title.trim() !== m.title) body.title = title.trim();
    const r = fromLocalInput(release);
    if (r !== (m.release_at ?? null)) body.release_at = r;
    if (Object.keys(body).length === 0) return;
    ctx.apply({
      label: t('sc_change_module', { title: m.title }),
      done: t('sc_saved_named', { title: body.title ?? m.title }),
      run: (o) =>
        call(
          api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}', {
            params: { path: { ...path, module_id: m.id } },
            headers: ifMatch(o.version),
            body,
          }),
        ),
    });
  }

  return (
    <details class="sc-settings">
      <summary>{t('sc_module_settings', { title: m.title })}</summary>
      <form class="stack" onSubmit={save}>
        <div class="field">
          <label for={`${base}-title`}>{t('sc_module_title')}</label>
          <input id={`${base}-title`} required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for={`${base}-release`}>{t('sc_release_at')}</label>
          <input
            id={`${base}-release`}
            type="datetime-local"
            value={release}
            aria-describedby={`${base}-release-hint`}
            onInput={(e) => setRelease(e.currentTarget.value)}
          />
          <p class="hint" id={`${base}-release-hint`}>
            {t('sc_release_hint')}
          </p>
        </div>
        <p class="row">
          <button type="submit" class="primary" disabled={ctx.busy}>
            {t('save')}
          </button>
          {confirmDelete ? (
            <>
              <button
                type="button"
                class="danger"
                disabled={ctx.busy}
                onClick={() =>
                  ctx.apply({
                    label: t('sc_change_delete', { title: m.title }),
                    done: t('sc_deleted', { title: m.title }),
                    focus: 'outline-h',
                    run: (o) =>
                      call(
                        api.DELETE('/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}', {
                          params: { path: { ...path, module_id: m.id } },
                          headers: ifMatch(o.version),
                        }),
                      ),
                  })
                }
              >
                {t('sc_delete_confirm', { title: m.title })}
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                {t('cancel')}
              </button>
            </>
          ) : (
            <button
              type="button"
              disabled={m.items.length > 0}
              aria-describedby={m.items.length > 0 ? `${base}-nodelete` : undefined}
              onClick={() => setConfirmDelete(true)}
            >
              {t('sc_delete_module')}
            </button>
          )}
        </p>
        {m.items.length > 0 && (
          <p class="hint" id={`${base}-nodelete`}>
            {t('sc_module_not_empty')}
          </p>
        )}
      </form>
    </details>
  );
}

function completionText(c: ItemCompletion): string {
  if (c.kind === 'manual') return t('sc_completion_manual');
  if (c.kind === 'reported') return t('sc_completion_reported');
  if (c.kind === 'min_score') return t('sc_completion_min_score_n', { min: formatNumber(c.min * 100) });
  return t('sc_completion_viewed');
}

function ItemRow({
  ctx,
  item,
  module: m,
  first,
  last,
}: {
  ctx: EditorCtx;
  item: Item;
  module: Module;
  first: boolean;
  last: boolean;
}) {
  const [over, setOver] = useState(false);
  const titleId = `item-t-${item.id}`;
  return (
    <li
      class={`sc-item${over ? ' drop-target' : ''}${ctx.dragging?.id === item.id ? ' dragging' : ''}`}
      data-item={item.id}
      aria-labelledby={titleId}
      onDragOver={(e) => {
        if (ctx.dragged()?.kind === 'item') {
          e.preventDefault();
          e.stopPropagation();
          setOver(true);
        }
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        if (ctx.dragged()?.kind !== 'item') return;
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        ctx.drop({ module: m.id, before: item.id });
      }}
    >
      <div class="sc-item-head">
        <span
          class="sc-handle"
          draggable
          aria-hidden="true"
          title={t('sc_drag_handle', { title: item.title })}
          onDragStart={(e) => {
            e.stopPropagation();
            e.dataTransfer?.setData('text/plain', item.id);
            if (e.dataTransfer) {
              e.dataTransfer.effectAllowed = 'move';
              // The whole row is the drag image, not only the handle.
              const row = (e.currentTarget as HTMLElement).closest('li');
              if (row) e.dataTransfer.setDragImage(row, 16, 16);
            }
            ctx.startDrag({ kind: 'item', id: item.id });
          }}
          onDragEnd={() => ctx.startDrag(undefined)}
        >
          ⠿
        </span>
        <span class="badge kind">{kindLabel(item.kind)}</span>
        <span class="sc-item-title" id={titleId}>
          {item.title}
        </span>
        <MoveButtons kind="item" id={item.id} title={item.title} first={first} last={last} onMove={(d) => ctx.moveItem(item.id, d)} />
      </div>
      <p class="sc-item-facts muted">
        {item.release_at && <span>{t('sc_released_from', { when: formatDateTime(item.release_at) })}</span>}
        {item.prerequisites.length > 0 && (
          <span>{t('sc_prerequisites_n', { n: item.prerequisites.length })}</span>
        )}
        <span>{completionText(item.completion)}</span>
        {item.kind === 'page' && (
          <a href={teachPaths.page(ctx.courseId, item.id)}>{t('sc_edit_page_named', { title: item.title })}</a>
        )}
        {item.body.type === 'assessment' && (
          <a href={teachPaths.quiz(ctx.courseId, item.body.assessment)}>{t('sc_edit_quiz_named', { title: item.title })}</a>
        )}
        {item.body.type === 'activity' && <span>{activityName(ctx, item.body.plugin, item.body.kind)}</span>}
      </p>
      <ItemSettings ctx={ctx} item={item} />
    </li>
  );
}

/** An activity kind's name as its plugin gives it (its ids when no plugin offers it now). */
function activityName(ctx: EditorCtx, plugin: string, kind: string): string {
  const k = findKind(ctx, plugin, kind);
  return t('sc_activity_of', { name: k?.name ?? kind, plugin });
}

function findKind(ctx: EditorCtx, plugin: string, kind: string): ActivityKind | undefined {
  return ctx.activityKinds.find((k) => k.plugin === plugin && k.kind === kind);
}

/** An item's settings: title, release date, prerequisites, completion rule and what it shows. */
function ItemSettings({ ctx, item }: { ctx: EditorCtx; item: Item }) {
  const path = usePath()(ctx.courseId);
  const [title, setTitle] = useState(item.title);
  const [release, setRelease] = useState(toLocalInput(item.release_at));
  const [prereqs, setPrereqs] = useState<Prerequisite[]>(item.prerequisites);
  const [completion, setCompletion] = useState<ItemCompletion>(item.completion);
  const [url, setUrl] = useState(item.body.type === 'link' ? item.body.url : '');
  const [media, setMedia] = useState(item.body.type === 'media' ? item.body.sha256 : '');
  const [settings, setSettings] = useState<unknown>(item.body.type === 'activity' ? item.body.settings : undefined);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  useEffect(() => {
    setTitle(item.title);
    setRelease(toLocalInput(item.release_at));
    setPrereqs(item.prerequisites);
    setCompletion(item.completion);
    setUrl(item.body.type === 'link' ? item.body.url : '');
    setMedia(item.body.type === 'media' ? item.body.sha256 : '');
    setSettings(item.body.type === 'activity' ? item.body.settings : undefined);
  }, [item]);
  const activityKind = item.body.type === 'activity' ? findKind(ctx, item.body.plugin, item.body.kind) : undefined;
  const base = `item-${item.id}`;
  const others = ctx.outline.modules.flatMap((m) => m.items).filter((i) => i.id !== item.id);

  function save(e: Event) {
    e.preventDefault();
    if (prereqs.some((p) => !p.item)) {
      setInvalid(t('sc_prereq_pick_item'));
      return;
    }
    setInvalid(undefined);
    // Only what changed: the rest stays as the server has it.
    const body: Record<string, unknown> = {};
    if (title.trim() !== item.title) body.title = title.trim();
    const r = fromLocalInput(release);
    if (r !== (item.release_at ?? null)) body.release_at = r;
    if (JSON.stringify(prereqs) !== JSON.stringify(item.prerequisites)) body.prerequisites = prereqs;
    if (JSON.stringify(completion) !== JSON.stringify(item.completion)) body.completion = completion;
    if (item.body.type === 'link' && url !== item.body.url) body.url = url;
    if (item.body.type === 'media' && media !== item.body.sha256) body.media = media;
    if (item.body.type === 'activity' && JSON.stringify(settings) !== JSON.stringify(item.body.settings)) {
      body.activity_settings = settings;
    }
    if (Object.keys(body).length === 0) return;
    ctx.apply({
      label: t('sc_change_item', { title: item.title }),
      done: t('sc_saved_named', { title: title.trim() || item.title }),
      run: async (o) => {
        await call(
          api.PATCH('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}', {
            params: { path: { ...path, item_id: item.id } },
            headers: ifMatch(o.version),
            body,
          }),
        );
        return undefined; // the page reads the outline again
      },
    });
  }

  const kinds = item.kind === 'video' ? ['video/'] : item.kind === 'file' ? [''] : [];
  const mediaChoices = ctx.media.filter((f) => kinds.some((k) => f.content_type.startsWith(k)));

  return (
    <details class="sc-settings">
      <summary>{t('sc_item_settings', { title: item.title })}</summary>
      <form class="stack" onSubmit={save}>
        <div class="field">
          <label for={`${base}-title`}>{t('sc_item_title')}</label>
          <input id={`${base}-title`} required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        {item.body.type === 'link' && (
          <div class="field">
            <label for={`${base}-url`}>{t('sc_item_url')}</label>
            <input id={`${base}-url`} type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </div>
        )}
        {item.body.type === 'media' && (
          <div class="field">
            <label for={`${base}-media`}>{t('sc_item_media')}</label>
            <MediaSelect
              id={`${base}-media`}
              value={media}
              choices={mediaChoices}
              current={item.body.filename ?? media}
              onChange={setMedia}
            />
          </div>
        )}
        {item.body.type === 'activity' &&
          (activityKind ? (
            <ActivitySettingsForm base={`${base}-activity`} kind={activityKind} value={settings} onChange={setSettings} />
          ) : (
            <p class="notice warn">{t('sc_activity_unavailable')}</p>
          ))}
        <div class="field">
          <label for={`${base}-release`}>{t('sc_release_at')}</label>
          <input
            id={`${base}-release`}
            type="datetime-local"
            value={release}
            aria-describedby={`${base}-release-hint`}
            onInput={(e) => setRelease(e.currentTarget.value)}
          />
          <p class="hint" id={`${base}-release-hint`}>
            {t('sc_release_hint')}
          </p>
        </div>
        <PrerequisitesEditor base={base} value={prereqs} onChange={setPrereqs} others={others} />
        <CompletionEditor base={base} kind={item.kind} value={completion} onChange={setCompletion} />
        {invalid && (
          <p class="field-error" role="alert">
            {invalid}
          </p>
        )}
        <p class="row">
          <button type="submit" class="primary" disabled={ctx.busy}>
            {t('sc_save_item', { title: item.title })}
          </button>
          {confirmDelete ? (
            <>
              <button
                type="button"
                class="danger"
                disabled={ctx.busy}
                onClick={() =>
                  ctx.apply({
                    label: t('sc_change_delete', { title: item.title }),
                    done: t('sc_deleted', { title: item.title }),
                    focus: 'outline-h',
                    run: async (o) => {
                      await call(
                        api.DELETE('/api/v1/institutions/{institution}/courses/{course_id}/content/items/{item_id}', {
                          params: { path: { ...path, item_id: item.id } },
                          headers: ifMatch(o.version),
                        }),
                      );
                      return undefined;
                    },
                  })
                }
              >
                {t('sc_delete_confirm', { title: item.title })}
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                {t('cancel')}
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirmDelete(true)}>
              {t('sc_delete_item')}
            </button>
          )}
        </p>
      </form>
      {item.kind === 'video' && <CaptionsEditor courseId={ctx.courseId} itemId={item.id} title={item.title} media={ctx.media} />}
    </details>
  );
}

function PrerequisitesEditor({
  base,
  value,
  onChange,
  others,
}: {
  base: string;
  value: Prerequisite[];
  onChange: (v: Prerequisite[]) => void;
  others: Item[];
}) {
  const set = (i: number, p: Prerequisite) => onChange(value.map((x, j) => (j === i ? p : x)));
  return (
    <fieldset>
      <legend>{t('sc_prerequisites')}</legend>
      {value.length === 0 && <p class="hint">{t('sc_prerequisites_none')}</p>}
      <ol class="plain stack">
        {value.map((p, i) => (
          <li key={i} class="row sc-prereq">
            <span class="field">
              <label for={`${base}-pre-${i}-item`}>{t('sc_prereq_item', { n: i + 1 })}</label>
              <select
                id={`${base}-pre-${i}-item`}
                value={p.item}
                onChange={(e) => set(i, { ...p, item: e.currentTarget.value })}
              >
                <option value="">{t('sc_choose')}</option>
                {others.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.title}
                  </option>
                ))}
              </select>
            </span>
            <span class="field">
              <label for={`${base}-pre-${i}-kind`}>{t('sc_prereq_kind', { n: i + 1 })}</label>
              <select
                id={`${base}-pre-${i}-kind`}
                value={p.kind}
                onChange={(e) =>
                  set(
                    i,
                    e.currentTarget.value === 'scored_at_least'
                      ? { kind: 'scored_at_least', item: p.item, min: 0.5 }
                      : { kind: 'completed', item: p.item },
                  )
                }
              >
                <option value="completed">{t('sc_prereq_completed')}</option>
                <option value="scored_at_least">{t('sc_prereq_scored')}</option>
              </select>
            </span>
            {p.kind === 'scored_at_least' && (
              <span class="field">
                <label for={`${base}-pre-${i}-min`}>{t('sc_min_percent')}</label>
                <input
                  id={`${base}-pre-${i}-min`}
                  type="number"
                  min={0}
                  max={100}
                  step="any"
                  value={Math.round(p.min * 1000) / 10}
                  onInput={(e) => set(i, { ...p, min: Number(e.currentTarget.value) / 100 })}
                />
              </span>
            )}
            <button type="button" onClick={() => onChange(value.filter((_, j) => j !== i))}>
              {t('sc_remove_named', { what: t('sc_prereq_item', { n: i + 1 }) })}
            </button>
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => onChange([...value, { kind: 'completed', item: '' }])}>
        {t('sc_prereq_add')}
      </button>
    </fieldset>
  );
}

function CompletionEditor({
  base,
  kind,
  value,
  onChange,
}: {
  base: string;
  kind: ItemKind;
  value: ItemCompletion;
  onChange: (v: ItemCompletion) => void;
}) {
  return (
    <fieldset>
      <legend>{t('sc_completion')}</legend>
      <label class="choice">
        <input
          type="radio"
          name={`${base}-completion`}
          checked={value.kind === 'viewed'}
          onChange={() => onChange({ kind: 'viewed' })}
        />
        <span>{t('sc_completion_viewed')}</span>
      </label>
      <label class="choice">
        <input
          type="radio"
          name={`${base}-completion`}
          checked={value.kind === 'manual'}
          onChange={() => onChange({ kind: 'manual' })}
        />
        <span>{t('sc_completion_manual')}</span>
      </label>
      {kind === 'activity' && (
        <label class="choice">
          <input
            type="radio"
            name={`${base}-completion`}
            checked={value.kind === 'reported'}
            onChange={() => onChange({ kind: 'reported' })}
          />
          <span>{t('sc_completion_reported')}</span>
        </label>
      )}
      {(kind === 'assessment' || kind === 'activity') && (
        <>
          <label class="choice">
            <input
              type="radio"
              name={`${base}-completion`}
              checked={value.kind === 'min_score'}
              onChange={() => onChange({ kind: 'min_score', min: 0.5 })}
            />
            <span>{t('sc_completion_min_score')}</span>
          </label>
          {value.kind === 'min_score' && (
            <div class="field">
              <label for={`${base}-completion-min`}>{t('sc_min_percent')}</label>
              <input
                id={`${base}-completion-min`}
                type="number"
                min={0}
                max={100}
                step="any"
                value={Math.round(value.min * 1000) / 10}
                onInput={(e) => onChange({ kind: 'min_score', min: Number(e.currentTarget.value) / 100 })}
              />
            </div>
          )}
        </>
      )}
    </fieldset>
  );
}

const KINDS: ItemKind[] = ['page', 'video', 'file', 'link', 'assessment', 'activity'];

function AddItem({ ctx, module: m }: { ctx: EditorCtx; module: Module }) {
  const path = usePath()(ctx.courseId);
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<ItemKind>('page');
  const [title, setTitle] = useState('');
  const [markdown, setMarkdown] = useState('');
  const [url, setUrl] = useState('');
  const [media, setMedia] = useState('');
  const [assessment, setAssessment] = useState('');
  const [activity, setActivity] = useState<ActivityKind | undefined>(ctx.activityKinds[0]);
  const [settings, setSettings] = useState<unknown>(() => (activity ? emptyFor(activity.settings_schema as never) : {}));
  const base = `add-${m.id}`;
  // Activities are offered only when a plugin provides some.
  const kinds = KINDS.filter((k) => k !== 'activity' || ctx.activityKinds.length > 0);
  function chooseActivity(id: string) {
    const k = ctx.activityKinds.find((x) => `${x.plugin}/${x.kind}` === id);
    setActivity(k);
    setSettings(k ? emptyFor(k.settings_schema as never) : {});
  }
  const mediaChoices = ctx.media.filter((f) => (kind === 'video' ? f.content_type.startsWith('video/') : true));

  function submit(e: Event) {
    e.preventDefault();
    const body: Record<string, unknown> = { kind, title: title.trim() };
    if (kind === 'page') body.markdown = markdown;
    if (kind === 'link') body.url = url.trim();
    if (kind === 'video' || kind === 'file') body.media = media;
    if (kind === 'assessment') body.assessment = assessment;
    if (kind === 'activity' && activity) body.activity = { plugin: activity.plugin, kind: activity.kind, settings };
    const name = title.trim();
    ctx.apply({
      label: t('sc_change_add_item', { title: name }),
      done: t('sc_added', { title: name }),
      run: async (o) => {
        await call(
          api.POST('/api/v1/institutions/{institution}/courses/{course_id}/content/modules/{module_id}/items', {
            params: { path: { ...path, module_id: m.id } },
            headers: ifMatch(o.version),
            body: body as never,
          }),
        );
        setTitle('');
        setMarkdown('');
        setUrl('');
        return undefined;
      },
    });
  }

  return (
    <details class="sc-add" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('sc_add_item_to', { module: m.title })}</summary>
      <form class="stack" onSubmit={submit}>
        <div class="field">
          <label for={`${base}-kind`}>{t('sc_item_kind')}</label>
          <select id={`${base}-kind`} value={kind} onChange={(e) => setKind(e.currentTarget.value as ItemKind)}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${base}-title`}>{t('sc_item_title')}</label>
          <input id={`${base}-title`} required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        {kind === 'page' && (
          <div class="field">
            <label for={`${base}-markdown`}>{t('sc_page_markdown')}</label>
            <textarea
              id={`${base}-markdown`}
              value={markdown}
              aria-describedby={`${base}-markdown-hint`}
              onInput={(e) => setMarkdown(e.currentTarget.value)}
            />
            <p class="hint" id={`${base}-markdown-hint`}>
              {t('sc_page_markdown_hint')}
            </p>
          </div>
        )}
        {kind === 'link' && (
          <div class="field">
            <label for={`${base}-url`}>{t('sc_item_url')}</label>
            <input id={`${base}-url`} type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </div>
        )}
        {(kind === 'video' || kind === 'file') && (
          <div class="field">
            <label for={`${base}-media`}>{t('sc_item_media')}</label>
            <MediaSelect
              id={`${base}-media`}
              value={media}
              choices={mediaChoices}
              placeholder={t('sc_choose')}
              describedBy={`${base}-media-hint`}
              onChange={setMedia}
            />
            <p class="hint" id={`${base}-media-hint`}>
              {t('sc_item_media_hint')}
            </p>
          </div>
        )}
        {kind === 'assessment' && (
          <div class="field">
            <label for={`${base}-assessment`}>{t('sc_item_assessment')}</label>
            <select
              id={`${base}-assessment`}
              required
              value={assessment}
              onChange={(e) => setAssessment(e.currentTarget.value)}
            >
              <option value="">{t('sc_choose')}</option>
              {ctx.assessments
                .filter((a) => !a.archived_at)
                .map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.title}
                    {a.published ? '' : ` (${t('sc_draft')})`}
                  </option>
                ))}
            </select>
          </div>
        )}
        {kind === 'activity' && (
          <>
            <div class="field">
              <label for={`${base}-activity`}>{t('sc_item_activity_kind')}</label>
              <select
                id={`${base}-activity`}
                required
                value={activity ? `${activity.plugin}/${activity.kind}` : ''}
                onChange={(e) => chooseActivity(e.currentTarget.value)}
              >
                {ctx.activityKinds.map((k) => (
                  <option key={`${k.plugin}/${k.kind}`} value={`${k.plugin}/${k.kind}`}>
                    {t('sc_activity_of', { name: k.name, plugin: k.plugin })}
                  </option>
                ))}
              </select>
            </div>
            {activity && (
              <ActivitySettingsForm
                key={`${activity.plugin}/${activity.kind}`}
                base={`${base}-settings`}
                kind={activity}
                value={settings}
                onChange={setSettings}
              />
            )}
          </>
        )}
        <button type="submit" class="primary" disabled={ctx.busy}>
          {t('sc_add_item')}
        </button>
      </form>
    </details>
  );
}

function AddModule({ ctx }: { ctx: EditorCtx }) {
  const path = usePath()(ctx.courseId);
  const [title, setTitle] = useState('');
  function submit(e: Event) {
    e.preventDefault();
    const name = title.trim();
    ctx.apply({
      label: t('sc_change_add_module', { title: name }),
      done: t('sc_added', { title: name }),
      run: async (o) => {
        const next = await call(
          api.POST('/api/v1/institutions/{institution}/courses/{course_id}/content/modules', {
            params: { path },
            headers: ifMatch(o.version),
            body: { title: name },
          }),
        );
        setTitle('');
        return next;
      },
    });
  }
  return (
    <form class="row sc-add-module" onSubmit={submit}>
      <span class="field">
        <label for="new-module-title">{t('sc_new_module')}</label>
        <input id="new-module-title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </span>
      <button type="submit" disabled={ctx.busy}>
        {t('sc_add_module')}
      </button>
    </form>
  );
}
