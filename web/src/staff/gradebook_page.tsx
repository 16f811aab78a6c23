// /teach/courses/:course/gradebook: the course's students × items, with weighted categories and
// totals (GET …/gradebook), each grade's history and a grade set by hand with a reason (PUT
// …/students/{user}/grades/{item}) in a dialog, the categories' editor (PUT …/grade-categories),
// the regrade after a key change (gradebook_regrade.tsx) and the CSV export (a download link to
// GET …/gradebook.csv).
//
// The grid is a real <table>: students are row headers, items column headers (grouped under their
// category when the course has categories). Its grade cells are buttons with one tab stop for the
// whole grid: the arrow keys move between them, Home/End go to the row's ends, Ctrl+Home/End to
// the grid's corners, Enter opens the grade. On a narrow screen the table scrolls sideways with
// the student column kept in view.
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, call, etagVersion, type Schemas } from '../api/client';
import { announce, describeError, useLoad } from '../components/ui';
import { formatDateTime, t, tp } from '../i18n';
import { coursePath } from '../pages/student_shared';
import { useSession } from '../session';
import { RegradePanel } from './gradebook_regrade';
import {
  type AssessmentSummary,
  Modal,
  STATUS_KEYS,
  StatusBadge,
  itemTitle,
  loadGradebook,
  type Person,
  StaffAsync,
  StaffFrame,
  describeActor,
  fromUnix,
  loadAssessments,
  loadRoster,
  percent,
  pointsOf,
} from './grading_shared';

type Gradebook = Schemas['Gradebook'];
type Grade = Schemas['Grade'];
type Column = Schemas['Column'];
type StudentRow = Schemas['StudentRow'];
type Category = Schemas['Category'];

export interface GradebookData {
  book: Gradebook;
  /** The categories' version, for `If-Match` when they are replaced. */
  categoriesVersion: number;
  assessments: AssessmentSummary[];
  roster: Map<string, Person>;
}

export function GradebookPage({ course }: { course: string }) {
  return (
    <StaffFrame course={course} section="gradebook" title={(c) => t('sg_gradebook_title', { course: c.title })}>
      {(c) => <GradebookBody course={c.id} code={c.code} />}
    </StaffFrame>
  );
}

function GradebookBody({ course, code }: { course: string; code: string }) {
  const { institution } = useSession();
  const state = useLoad<GradebookData>(async () => {
    const [book, cats, assessments, roster] = await Promise.all([
      loadGradebook(institution, course),
      api.GET('/api/v1/institutions/{institution}/courses/{course_id}/grade-categories', {
        params: coursePath(institution, course),
      }),
      loadAssessments(institution, course),
      loadRoster(institution, course),
    ]);
    const categoriesVersion = cats.data?.version ?? etagVersion(cats.response) ?? 0;
    return { book, categoriesVersion, assessments, roster };
  }, [institution, course]);
  const csv = `/api/v1/institutions/${encodeURIComponent(institution)}/courses/${encodeURIComponent(course)}/gradebook.csv`;

  return (
    <StaffAsync state={state}>
      {(data) => (
        <>
          <p class="row sg-actions">
            <a class="button" href={csv} download={`gradebook-${code}.csv`}>
              {t('sg_export_csv')}
            </a>
            <span class="hint">{t('sg_export_csv_hint')}</span>
          </p>
          <Grid data={data} course={course} onChanged={state.reload} />
          <ManualGradeForm data={data} course={course} onChanged={state.reload} />
          <CategoriesEditor data={data} course={course} onChanged={state.reload} />
          <RegradePanel course={course} data={data} onChanged={state.reload} />
        </>
      )}
    </StaffAsync>
  );
}

/** The columns in display order: each category's items, then those in no category. */
function orderedColumns(book: Gradebook): { groups: { category?: Category; columns: Column[] }[]; flat: Column[] } {
  const groups: { category?: Category; columns: Column[] }[] = [];
  for (const cat of book.categories) {
    const cols = book.columns.filter((c) => c.category === cat.id);
    if (cols.length) groups.push({ category: cat, columns: cols });
  }
  const rest = book.columns.filter((c) => !c.category || !book.categories.some((k) => k.id === c.category));
  if (rest.length) groups.push({ columns: rest });
  return { groups, flat: groups.flatMap((g) => g.columns) };
}

function Grid({ data, course, onChanged }: { data: GradebookData; course: string; onChanged: () => void }) {
  const { book, assessments } = data;
  const { groups, flat } = useMemo(() => orderedColumns(book), [book]);
  // The one cell in the tab order (roving tabindex), and the cell whose dialog is open.
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const [open, setOpen] = useState<{ student: string; item: string } | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);
  const hasCategories = book.categories.length > 0;

  if (book.students.length === 0) return <p class="muted">{t('sg_no_students')}</p>;
  const rows = book.students.length;
  const cols = flat.length;

  function focusCell(r: number, c: number) {
    const rr = Math.max(0, Math.min(rows - 1, r));
    const cc = Math.max(0, Math.min(cols - 1, c));
    setActive([rr, cc]);
    tableRef.current?.querySelector<HTMLElement>(`[data-cell="${rr}:${cc}"]`)?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    const target = e.target as HTMLElement;
    const at = target.dataset.cell?.split(':').map(Number);
    if (!at || at.length !== 2) return;
    const [r, c] = at as [number, number];
    const moves: Record<string, [number, number]> = {
      ArrowUp: [r - 1, c],
      ArrowDown: [r + 1, c],
      ArrowLeft: [r, c - 1],
      ArrowRight: [r, c + 1],
      Home: e.ctrlKey ? [0, 0] : [r, 0],
      End: e.ctrlKey ? [rows - 1, cols - 1] : [r, cols - 1],
      PageUp: [0, c],
      PageDown: [rows - 1, c],
    };
    const to = moves[e.key];
    if (!to) return;
    e.preventDefault();
    focusCell(to[0], to[1]);
  }

  const openGrade = open ? book.items.find((g) => g.student === open.student && g.item === open.item) : undefined;
  const openRow = open ? book.students.find((s) => s.student === open.student) : undefined;
  // The data may have changed under the remembered cell (a column or a student fewer).
  const ar = Math.min(active[0], rows - 1);
  const ac = Math.min(active[1], cols - 1);

  return (
    <section aria-labelledby="sg-grid-h">
      <h2 id="sg-grid-h">{t('sg_grid_title')}</h2>
      <p id="sg-grid-help" class="hint">
        {t('sg_grid_help')}
      </p>
      {hasCategories && (
        <p class="hint">
          {book.categories.map((cat, i) => (
            <span key={cat.id}>
              {i > 0 && ' · '}
              {t('sg_category_weight', { name: cat.name, weight: percent(cat.weight) })}
            </span>
          ))}
        </p>
      )}
      <div class="table-wrap sg-grid-wrap" role="region" aria-labelledby="sg-grid-h" tabIndex={0}>
        <table class="sg-grid" ref={tableRef} aria-describedby="sg-grid-help" onKeyDown={onKeyDown}>
          <caption class="visually-hidden">{t('sg_grid_caption')}</caption>
          <thead>
            {hasCategories && (
              <tr>
                <td class="sg-corner" />
                {groups.map((g) => (
                  <th scope="colgroup" colSpan={g.columns.length} key={g.category?.id ?? '-'}>
                    {g.category
                      ? t('sg_category_weight', { name: g.category.name, weight: percent(g.category.weight) })
                      : t('sg_no_category')}
                  </th>
                ))}
                <th scope="colgroup" colSpan={book.categories.length}>
                  {t('sg_category_percents')}
                </th>
                <td />
              </tr>
            )}
            <tr>
              <th scope="col" class="sg-sticky">
                {t('sg_col_student')}
              </th>
              {flat.map((c) => (
                <th scope="col" key={c.item}>
                  {itemTitle(c.item, assessments)}
                </th>
              ))}
              {book.categories.map((cat) => (
                <th scope="col" key={cat.id}>
                  {cat.name}
                </th>
              ))}
              <th scope="col">{t('sg_col_total')}</th>
            </tr>
          </thead>
          <tbody>
            {book.students.map((s, r) => (
              <tr key={s.student}>
                <th scope="row" class="sg-sticky">
                  <span class="sg-name">{s.name}</span>
                  <span class="sg-email">{s.email}</span>
                </th>
                {flat.map((c, ci) => {
                  const cell = s.grades[c.item];
                  const item = itemTitle(c.item, assessments);
                  const grade = cell ? pointsOf(cell.points, cell.max_points) : t('sg_no_grade');
                  const label = t('sg_cell_label', {
                    student: s.name,
                    item,
                    grade: cell && cell.status !== 'graded' ? `${grade}, ${t(STATUS_KEYS[cell.status])}` : grade,
                  });
                  return (
                    <td key={c.item} class={cell ? `sg-cell ${cell.status}` : 'sg-cell empty'}>
                      <button
                        type="button"
                        class="sg-cell-button"
                        data-cell={`${r}:${ci}`}
                        tabIndex={r === ar && ci === ac ? 0 : -1}
                        aria-label={label}
                        aria-haspopup="dialog"
                        onFocus={() => setActive([r, ci])}
                        onClick={() => setOpen({ student: s.student, item: c.item })}
                      >
                        {cell ? pointsOf(cell.points, cell.max_points) : '—'}
                        {cell && cell.status !== 'graded' && (
                          <span class={`sg-flag ${cell.status}`} aria-hidden="true">
                            {cell.status === 'needs_manual_grading' ? ' ✎' : ' !'}
                          </span>
                        )}
                      </button>
                    </td>
                  );
                })}
                {book.categories.map((cat) => {
                  const ct = s.categories.find((x) => x.category === cat.id);
                  return <td key={cat.id}>{ct?.percent != null ? percent(ct.percent) : '—'}</td>;
                })}
                <td class="sg-total">{s.total != null ? percent(s.total) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="hint">{t('sg_legend')}</p>
      <Modal open={open !== null} onClose={() => setOpen(null)} labelledBy="sg-cell-h" class="sg-cell-dialog">
        {open && openRow && (
          <CellDetail
            course={course}
            row={openRow}
            item={open.item}
            title={itemTitle(open.item, assessments)}
            grade={openGrade}
            roster={data.roster}
            onSaved={onChanged}
            onClose={() => setOpen(null)}
          />
        )}
      </Modal>
    </section>
  );
}

/** One student's grade for one item: its attempts, its history, and a grade set by hand. */
function CellDetail({
  course,
  row,
  item,
  title,
  grade,
  roster,
  onSaved,
  onClose,
}: {
  course: string;
  row: StudentRow;
  item: string;
  title: string;
  grade?: Grade;
  roster: Map<string, Person>;
  onSaved: () => void;
  onClose: () => void;
}) {
  return (
    <>
      <h2 id="sg-cell-h" tabIndex={-1} data-autofocus>
        {t('sg_cell_title', { student: row.name, item: title })}</h2>
      {grade ? (
        <p>
          <strong>{pointsOf(grade.points, grade.max_points)}</strong> <StatusBadge status={grade.status} />
          <span class="hint sg-line">
            {t('sg_updated_by', { when: formatDateTime(fromUnix(grade.updated_at)), who: describeActor(grade.graded_by, roster) })}
          </span>
        </p>
      ) : (
        <p class="muted">{t('sg_no_grade_yet')}</p>
      )}
      {grade && grade.attempts.length > 0 && (
        <details>
          <summary>{tp('sg_attempts', grade.attempts.length)}</summary>
          <ul>
            {grade.attempts.map((a, i) => (
              <li key={a.attempt}>
                {t('sg_attempt_line', {
                  n: i + 1,
                  when: formatDateTime(fromUnix(a.submitted_at)),
                  grade: pointsOf(a.points, a.max_points),
                })}
                {a.counts && <span class="badge ok">{t('sg_attempt_counts')}</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
      {grade && grade.history.length > 0 && (
        <>
          <h3>{t('sg_history_title')}</h3>
          <div class="table-wrap" role="region" aria-label={t('sg_history_title')} tabIndex={0}>
            <table class="sg-history">
              <thead>
                <tr>
                  <th scope="col">{t('sg_col_when')}</th>
                  <th scope="col">{t('sg_col_grade')}</th>
                  <th scope="col">{t('sg_col_by')}</th>
                  <th scope="col">{t('sg_col_reason')}</th>
                </tr>
              </thead>
              <tbody>
                {[...grade.history].reverse().map((h, i) => (
                  <tr key={`${h.at}-${i}`}>
                    <th scope="row">{formatDateTime(fromUnix(h.at))}</th>
                    <td>
                      {pointsOf(h.points, h.max_points)} <StatusBadge status={h.status} />
                    </td>
                    <td>{describeActor(h.by, roster)}</td>
                    <td>{h.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <SetGradeForm
        course={course}
        student={row.student}
        item={item}
        initial={grade ? { points: grade.points, max: grade.max_points } : undefined}
        onSaved={onSaved}
      />
      <p class="row dialog-buttons">
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </p>
    </>
  );
}

/** PUT …/students/{user}/grades/{item}: points, out of, and the reason kept in the history. */
function SetGradeForm({
  course,
  student,
  item,
  initial,
  onSaved,
}: {
  course: string;
  student: string;
  item: string;
  initial?: { points: number; max: number };
  onSaved: () => void;
}) {
  const { institution } = useSession();
  const [pts, setPts] = useState(initial ? String(initial.points) : '');
  const [max, setMax] = useState(initial ? String(initial.max) : '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const id = `sg-set-${student}-${item}`.replace(/[^\w-]/g, '_');
  const invalid = reason.trim() === '' || pts === '' || max === '' || Number(pts) < 0 || Number(max) <= 0;

  async function submit(e: Event) {
    e.preventDefault();
    if (invalid) return;
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await call(
        api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades/{item}', {
          params: { path: { institution, course_id: course, user_id: student, item } },
          body: { points: Number(pts), max_points: Number(max), reason: reason.trim() },
        }),
      );
      setSaved(true);
      setReason('');
      announce(t('sg_grade_saved'));
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="sg-set-grade" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{t('sg_set_grade_title')}</h3>
      <div class="row">
        <label class="field">
          <span>{t('sg_points')}</span>
          <input type="number" step="any" min="0" required value={pts} onInput={(e) => setPts(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('sg_out_of')}</span>
          <input type="number" step="any" min="0" required value={max} onInput={(e) => setMax(e.currentTarget.value)} />
        </label>
      </div>
      <label class="field">
        <span>{t('sg_reason')}</span>
        <textarea required rows={2} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={`${id}-hint`} />
      </label>
      <p id={`${id}-hint`} class="hint">
        {t('sg_reason_hint')}
      </p>
      {error !== undefined && (
        <p class="notice error" role="alert">
          {describeError(error)}
        </p>
      )}
      {saved && (
        <p class="notice ok" role="status">
          {t('sg_grade_saved')}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || invalid} aria-busy={busy}>
        {busy ? t('sg_saving') : t('sg_set_grade_submit')}
      </button>
    </form>
  );
}

/** A grade by hand for an item the grid has no column for yet (participation, a lab mark…). */
function ManualGradeForm({ data, course, onChanged }: { data: GradebookData; course: string; onChanged: () => void }) {
  const [student, setStudent] = useState('');
  const [item, setItem] = useState('');
  const students = data.book.students;
  const validItem = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(item.trim());
  return (
    <details class="card sg-new-item">
      <summary>
        <h2>{t('sg_new_item_title')}</h2>
      </summary>
      <p class="hint">{t('sg_new_item_intro')}</p>
      <div class="row">
        <label class="field">
          <span>{t('sg_col_student')}</span>
          <select value={student} onChange={(e) => setStudent(e.currentTarget.value)}>
            <option value="">{t('sg_choose_student')}</option>
            {students.map((s) => (
              <option key={s.student} value={s.student}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('sg_item_id')}</span>
          <input
            type="text"
            value={item}
            list="sg-known-items"
            aria-describedby="sg-item-id-hint"
            onInput={(e) => setItem(e.currentTarget.value)}
          />
        </label>
        <datalist id="sg-known-items">
          {data.book.columns.map((c) => (
            <option key={c.item} value={c.item} />
          ))}
        </datalist>
      </div>
      <p id="sg-item-id-hint" class="hint">
        {t('sg_item_id_hint')}
      </p>
      {student && validItem && (
        <SetGradeForm key={`${student}/${item.trim()}`} course={course} student={student} item={item.trim()} onSaved={onChanged} />
      )}
    </details>
  );
}

/** The course's weighted categories: name, weight (percent of the total) and items. */
function CategoriesEditor({ data, course, onChanged }: { data: GradebookData; course: string; onChanged: () => void }) {
  const { institution } = useSession();
  const initial = (): Schemas['CategoryBody'][] => data.book.categories.map((c) => ({ ...c, items: [...c.items] }));
  const [cats, setCats] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const sum = cats.reduce((s, c) => s + (Number.isFinite(c.weight) ? c.weight : 0), 0);
  const items = data.book.columns;

  function update(i: number, patch: Partial<Schemas['CategoryBody']>) {
    setSaved(false);
    setCats((cs) => cs.map((c, k) => (k === i ? { ...c, ...patch } : c)));
  }
  function toggleItem(i: number, item: string, on: boolean) {
    // An item is in at most one category: choosing it here takes it out of the others.
    setSaved(false);
    setCats((cs) =>
      cs.map((c, k) => {
        const rest = (c.items ?? []).filter((x) => x !== item);
        return { ...c, items: k === i && on ? [...rest, item] : rest };
      }),
    );
  }
  function add() {
    const n = cats.length + 1;
    setCats([...cats, { id: `category-${n}`, name: '', weight: 0, items: [] }]);
  }

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await call(
        api.PUT('/api/v1/institutions/{institution}/courses/{course_id}/grade-categories', {
          params: coursePath(institution, course),
          headers: { 'If-Match': `"${data.categoriesVersion}"` },
          body: { categories: cats.map((c) => ({ ...c, name: c.name.trim() })) },
        }),
      );
      setSaved(true);
      announce(t('sg_categories_saved'));
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <details class="card sg-categories">
      <summary>
        <h2>{t('sg_categories_title')}</h2>
      </summary>
      <form onSubmit={save}>
        <p class="hint">{t('sg_categories_intro')}</p>
        {cats.map((c, i) => (
          <fieldset key={i}>
            <legend>{c.name || t('sg_category_n', { n: i + 1 })}</legend>
            <div class="row">
              <label class="field">
                <span>{t('sg_category_name')}</span>
                <input type="text" required value={c.name} onInput={(e) => update(i, { name: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>{t('sg_category_weight_label')}</span>
                <input
                  type="number"
                  min="0"
                  max="100"
                  step="any"
                  required
                  value={String(c.weight)}
                  onInput={(e) => update(i, { weight: Number(e.currentTarget.value) })}
                />
              </label>
              <button type="button" onClick={() => setCats(cats.filter((_, k) => k !== i))}>
                {t('sg_category_remove', { name: c.name || t('sg_category_n', { n: i + 1 }) })}
              </button>
            </div>
            <fieldset class="sg-items">
              <legend>{t('sg_category_items')}</legend>
              {items.map((col) => (
                <label class="choice" key={col.item}>
                  <input
                    type="checkbox"
                    checked={(c.items ?? []).includes(col.item)}
                    onChange={(e) => toggleItem(i, col.item, e.currentTarget.checked)}
                  />
                  <span>{itemTitle(col.item, data.assessments)}</span>
                </label>
              ))}
            </fieldset>
          </fieldset>
        ))}
        <p class={Math.abs(sum - 100) < 1e-6 || cats.length === 0 ? 'hint' : 'hint sg-warn'} role="status">
          {t('sg_weights_sum', { sum: percent(sum) })}
        </p>
        {error !== undefined && (
          <p class="notice error" role="alert">
            {describeError(error)}
          </p>
        )}
        {saved && (
          <p class="notice ok" role="status">
            {t('sg_categories_saved')}
          </p>
        )}
        <p class="row">
          <button type="button" onClick={add}>
            {t('sg_category_add')}
          </button>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
            {busy ? t('sg_saving') : t('sg_categories_save')}
          </button>
        </p>
      </form>
    </details>
  );
}
