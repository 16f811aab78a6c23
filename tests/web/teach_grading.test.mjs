// The instructor's grading pages in a real browser against a real server (see harness.mjs and
// seed.mjs). What the seed lacks is made first through the API, in a course of the test's own so
// that no other test's attempts are touched:
//
// - the seeded teacher creates "Plant Physiology" with an assessment worth 7 points: a single-choice
//   question whose key forgets one right answer (tracheids carry water too) and an essay with a
//   two-criterion rubric, proctored with a low threshold for time away;
// - two new students take it: Noor chooses tracheids (marked wrong by the faulty key), Léo the
//   xylem vessels (right); both write an essay; Léo switches away from the exam three times (the
//   focus-loss signals the exam page sends, posted as Léo: three absences of 25 s flag the attempt).
//
// Then, as the teacher, through the pages:
// - the grading queue: both essays graded with the rubric (quick points and typed points, a
//   comment), with Save and next, Previous and Next;
// - the gradebook: the grid (a real table, keyboard navigation between grades), a grade's
//   history in its dialog, a grade by hand with a reason for a new item, the key corrected and the
//   assessment regraded (who is regraded before, who was affected after: Noor only), the CSV
//   downloaded and read;
// - proctoring review: the flagged queue, Léo's timeline with the plugin's flags and evidence,
//   confirmed with a comment (the attempt leaves the waiting queue, the review is on the record);
// - tutor insights on the seeded course and its policy changed (names shown), then restored.
//
// A student opening the same addresses sees "not permitted" and no staff call is made; the API
// refuses the student every one of those calls. axe on every page (desktop and phone width),
// screenshots `teach-*`, and no console error or failed request beyond those declared.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, checkA11y, config, launch, msg, screenshot, signedInPage, until } from './harness.mjs';

const { url, seed } = config();
const m = (key, params) => msg('en', key, params);
/** A plural message as the app picks it in English (`key_one` for 1, `key_other` otherwise). */
const mp = (key, n, params = {}) => msg('en', `${key}_${n === 1 ? 'one' : 'other'}`, { n, ...params });
const slug = seed.institution.slug;
/** Makes reruns against one development server possible (new emails and course code each time). */
const run = Date.now().toString(36);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// ---- The API, as the test's own client (bearer tokens, not a page's cookie) ----

async function login(person) {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: person.institution, email: person.email, password: person.password }),
  });
  assert.equal(r.status, 200, `login as ${person.email}`);
  return (await r.json()).access_token;
}

/** One request; returns `{ status, body }` without judging it. */
async function request(token, method, path, { body, userAgent } = {}) {
  const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (userAgent) headers['user-agent'] = userAgent;
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // CSV and other text stay text
  }
  return { status: r.status, body: data };
}

/** A request that must succeed (2xx); returns the body. */
async function ok(token, method, path, body, opts = {}) {
  const r = await request(token, method, path, { body, ...opts });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// ---- What the seed lacks ----

const ESSAY_TEXT = {
  noor: 'Water is pulled up by transpiration: it evaporates through the stomata, and cohesion between water molecules drags the column up the xylem.',
  leo: 'Roots push water up by osmosis, and the leaves pull it because they lose water to the air.',
};

/**
 * The course, its assessment, two students and their attempts. Returns ids and names.
 */
async function setUp() {
  const adminToken = await login(seed.admin);
  const teacherToken = await login(seed.teacher);
  const people = {
    noor: { institution: slug, email: `noor.haddad.${run}@northfield.test`, name: 'Noor Haddad', password: seed.password },
    leo: { institution: slug, email: `leo.martin.${run}@northfield.test`, name: 'Léo Martin', password: seed.password },
  };
  for (const p of Object.values(people)) {
    const u = await ok(adminToken, 'POST', `/api/v1/institutions/${slug}/users`, { email: p.email, name: p.name, role: 'member', password: p.password });
    p.id = u.id;
  }
  const course = await ok(teacherToken, 'POST', `/api/v1/institutions/${slug}/courses`, {
    code: `PHY-${run}`.toUpperCase(),
    title: 'Plant Physiology',
    description: 'How water, sugars and gases move through a plant.',
  });
  const base = `/api/v1/institutions/${slug}/courses/${course.id}`;
  for (const p of Object.values(people)) await ok(teacherToken, 'POST', `${base}/enrolments`, { user_id: p.id, role: 'student' });
  await ok(teacherToken, 'POST', `${base}/publish`);
  const option = (id, correct) => ({ id, correct, weight: correct ? 1 : 0, feedback: null });
  const created = await ok(teacherToken, 'POST', `${base}/assessments`, {
    title: 'Water transport check',
    questions: [
      {
        id: 'conducting',
        prompt: 'Which cells carry water up the stem?',
        points: 2,
        // The key forgets that tracheids conduct water too: the regrade corrects it.
        key: { single_choice: { options: [option('vessels', true), option('tracheids', false), option('sieve', false)], rule: 'all_or_nothing' } },
        labels: { vessels: 'Xylem vessels', tracheids: 'Tracheids', sieve: 'Phloem sieve tubes' },
      },
      {
        id: 'essay',
        prompt: 'Explain how water reaches the top of a tall tree.',
        points: 5,
        key: {
          essay: [
            { id: 'mechanism', description: 'Names transpiration pull and cohesion', points: 2 },
            { id: 'evidence', description: 'Connects the mechanism to the leaf and the xylem', points: 3 },
          ],
        },
      },
    ],
    settings: {
      attempts_allowed: 1,
      proctoring: {
        flag_threshold: 0.1,
        action: 'flag_for_review',
        allow_copy_paste: false,
        heartbeat_interval_ms: 5000,
        weights: { focus_lost: 1, visibility_hidden: 1 },
      },
    },
  });
  const assessment = await ok(teacherToken, 'PATCH', `/api/v1/assessments/${created.id}`, { published: true });

  /** Takes the assessment as `who`; `away` posts three tab switches first. Returns the attempt id. */
  async function take(who, choice, { away = false } = {}) {
    const token = await login(people[who]);
    const a = `/api/v1/assessments/${assessment.id}/attempts`;
    const attempt = await ok(token, 'POST', a, { client_request_id: `teach-grading-${run}-${who}` });
    if (away) {
      // What the exam page sends when the student leaves the page three times, 25 s each.
      const t0 = Date.now();
      const signals = [{ kind: 'heartbeat', at_ms: t0 }];
      for (const at of [10_000, 60_000, 110_000]) {
        signals.push({ kind: 'focus_lost', at_ms: t0 + at, duration_ms: null, detail: null });
        signals.push({ kind: 'focus_regained', at_ms: t0 + at + 25_000, duration_ms: 25_000, detail: null });
      }
      await ok(token, 'POST', `${a}/${attempt.id}/signals`, { seq: 1, signals }, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chromium exam page' });
    }
    await ok(token, 'PUT', `${a}/${attempt.id}/answers/conducting`, { response: { choices: [choice] }, version: 1 });
    await ok(token, 'PUT', `${a}/${attempt.id}/answers/essay`, { response: { essay: ESSAY_TEXT[who] }, version: 1 });
    await ok(token, 'POST', `${a}/${attempt.id}/submit`);
    return { id: attempt.id, token };
  }
  const noorAttempt = await take('noor', 'tracheids');
  const leoAttempt = await take('leo', 'vessels', { away: true });
  // Both graded automatically; the essays wait for a person.
  await until('both automatic grades', async () => {
    const gb = await ok(teacherToken, 'GET', `${base}/gradebook`);
    return gb.items.filter((g) => g.item === assessment.id).length === 2 ? gb : undefined;
  });
  return { teacherToken, people, course, base, assessment, attempts: { noor: noorAttempt, leo: leoAttempt } };
}

// ---- The pages ----

async function teacherPage() {
  return signedInPage(browser, seed.teacher, { acceptDownloads: true });
}

/** axe at desktop and phone width, then the screenshots. */
async function audit(page, name, { fullPage = false } = {}) {
  await checkA11y(page, `${name} (desktop)`);
  await page.setViewportSize(PHONE);
  try {
    await checkA11y(page, `${name} (phone)`);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
  await screenshot(page, `teach-${name}`, { fullPage });
}

const h1 = (page, name) => page.getByRole('heading', { level: 1, name, exact: true });

test('an instructor grades essays with the rubric, regrades after a key change, exports the CSV, reviews a flagged attempt and the tutor', { timeout: 300_000 }, async () => {
  const s = await setUp();
  const { page, w } = await teacherPage();
  const course = s.course;
  const assessment = s.assessment;
  const teach = (section) => `/teach/courses/${course.id}/${section}`;

  // ---- The grading queue: both essays, oldest submission first ----
  await page.goto(teach('grading'));
  await h1(page, m('sg_queue_title', { course: course.title })).waitFor();
  await page.getByText(mp('sg_queue_waiting', 2)).waitFor();
  const entry = page.locator('article.sg-entry');
  await entry.getByRole('heading', { level: 2, name: m('sg_entry_title', { student: 'Noor Haddad', assessment: assessment.title }) }).waitFor();
  await entry.getByText(ESSAY_TEXT.noor).waitFor();
  await entry.getByText('Explain how water reaches the top of a tall tree.').waitFor();
  await page.getByRole('navigation', { name: m('sg_nav_label') }).getByRole('link', { name: m('sg_nav_grading') }).waitFor();
  await audit(page, 'grading-queue', { fullPage: true });

  // Noor: 2 of 2 (a quick-points button) and 2.5 of 3 (typed), with a comment.
  await entry.getByRole('group', { name: m('sg_quick_points', { criterion: 'Names transpiration pull and cohesion' }) }).getByRole('button', { name: '2', exact: true }).click();
  await entry.getByRole('spinbutton', { name: /^Connects the mechanism to the leaf and the xylem/ }).fill('2.5');
  await entry.getByText(m('sg_rubric_sum', { sum: '4.5', max: '5', scaled: m('sg_points_of', { points: '4.5', max: '5' }) })).waitFor();
  await entry.getByLabel(m('sg_comment')).fill('Clear mechanism; say more about the stomata.');
  const noorSaved = page.waitForResponse((r) => r.url().includes(`/attempts/${s.attempts.noor.id}/questions/essay/manual-grade`) && r.request().method() === 'PUT');
  await entry.getByRole('button', { name: m('sg_save_next'), exact: true }).click();
  assert.equal((await noorSaved).status(), 200);

  // Save and next moved to Léo's essay; Previous goes back to Noor's, now graded; Next returns.
  await entry.getByRole('heading', { level: 2, name: m('sg_entry_title', { student: 'Léo Martin', assessment: assessment.title }) }).waitFor();
  await entry.getByText(ESSAY_TEXT.leo).waitFor();
  await entry.getByRole('button', { name: m('sg_previous'), exact: true }).click();
  await entry.getByText(ESSAY_TEXT.noor).waitFor();
  await entry.locator('.notice.ok').waitFor();
  assert.equal(await entry.getByRole('spinbutton', { name: /^Connects the mechanism to the leaf and the xylem/ }).inputValue(), '2.5');
  await entry.getByRole('button', { name: m('sg_next'), exact: true }).click();
  await entry.getByText(ESSAY_TEXT.leo).waitFor();
  await entry.getByRole('spinbutton', { name: /^Names transpiration pull and cohesion/ }).fill('1');
  await entry.getByRole('spinbutton', { name: /^Connects the mechanism to the leaf and the xylem/ }).fill('1');
  const leoSaved = page.waitForResponse((r) => r.url().includes(`/attempts/${s.attempts.leo.id}/questions/essay/manual-grade`));
  await entry.getByRole('button', { name: m('sg_save_next'), exact: true }).click();
  assert.equal((await leoSaved).status(), 200);
  await page.getByText(m('sg_queue_empty')).waitFor();
  // The API agrees: nothing waits; Noor's essay has the rubric's points and the comment.
  assert.deepEqual((await ok(s.teacherToken, 'GET', `/api/v1/assessments/${assessment.id}/manual-queue`)).items, []);
  const noorGrade = (await ok(s.teacherToken, 'GET', `${s.base}/students/${s.people.noor.id}/grades`)).items.find((g) => g.item === assessment.id);
  const noorEssay = noorGrade.questions.find((q) => q.question_id === 'essay');
  assert.equal(noorEssay.points, 4.5);
  assert.deepEqual(noorEssay.feedback, ['Clear mechanism; say more about the stomata.']);
  // The key marked tracheids wrong: 0 + 4.5 of 7.
  assert.equal(noorGrade.points, 4.5);
  await screenshot(page, 'teach-grading-queue-done');

  // ---- The gradebook ----
  await page.getByRole('navigation', { name: m('sg_nav_label') }).getByRole('link', { name: m('sg_nav_gradebook') }).click();
  await h1(page, m('sg_gradebook_title', { course: course.title })).waitFor();
  const grid = page.getByRole('table', { name: m('sg_grid_caption') });
  await grid.waitFor();
  await grid.getByRole('rowheader', { name: /Noor Haddad/ }).waitFor();
  await grid.getByRole('columnheader', { name: assessment.title }).waitFor();
  const noorCell = grid.getByRole('button', { name: m('sg_cell_label', { student: 'Noor Haddad', item: assessment.title, grade: '4.5 / 7' }) });
  await noorCell.waitFor();
  // One tab stop for the grid; the arrow keys move between grades.
  const cells = grid.locator('button[data-cell]');
  assert.equal(await grid.locator('button[data-cell][tabindex="0"]').count(), 1);
  await cells.first().focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.cell), '1:0');
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.cell), '0:0');
  await audit(page, 'gradebook', { fullPage: true });

  // A grade's history, in a dialog opened with the keyboard.
  const rowOf = (name) => grid.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(name) }) });
  await noorCell.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: m('sg_cell_title', { student: 'Noor Haddad', item: assessment.title }) });
  await dialog.waitFor();
  const history = dialog.getByRole('table');
  await history.getByRole('cell', { name: /graded by hand with the rubric/ }).first().waitFor();
  await history.getByRole('cell', { name: 'Margaret Okafor' }).first().waitFor();
  await checkA11y(page, 'the gradebook: a grade and its history');
  await screenshot(page, 'teach-gradebook-history');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  // A grade by hand, with its reason, for an item the grid has no column for yet.
  const byHand = page.locator('details.sg-new-item');
  await byHand.locator('summary').click();
  await byHand.getByLabel(m('sg_col_student')).selectOption({ label: 'Léo Martin' });
  await byHand.getByLabel(m('sg_item_id')).fill('lab-report');
  await byHand.getByLabel(m('sg_points')).fill('8');
  await byHand.getByLabel(m('sg_out_of')).fill('10');
  await byHand.getByLabel(m('sg_reason')).fill('Lab report on transpiration, marked on paper');
  await byHand.getByRole('button', { name: m('sg_set_grade_submit') }).click();
  await byHand.getByText(m('sg_grade_saved')).first().waitFor();
  await grid.getByRole('columnheader', { name: 'lab-report' }).waitFor();
  await rowOf('Léo Martin').getByRole('button', { name: m('sg_cell_label', { student: 'Léo Martin', item: 'lab-report', grade: '8 / 10' }) }).waitFor();
  const labGrade = (await ok(s.teacherToken, 'GET', `${s.base}/students/${s.people.leo.id}/grades`)).items.find((g) => g.item === 'lab-report');
  assert.equal(labGrade.history.at(-1).reason, 'Lab report on transpiration, marked on paper');

  // The regrade: who is regraded before, who was affected after.
  const regrade = page.getByRole('region', { name: m('sg_regrade_title') });
  await regrade.getByLabel(m('sg_regrade_assessment')).selectOption({ label: assessment.title });
  await regrade.getByText(m('sg_current_key', { key: 'Xylem vessels' })).waitFor();
  await regrade.getByLabel(m('sg_change_key', { n: 1 })).check();
  await regrade.getByRole('group', { name: m('sg_key_correct_options') }).getByLabel('Tracheids').check();
  await regrade.getByText(mp('sg_regrade_will_regrade', 2)).waitFor();
  const who = regrade.locator('ul.sg-affected').first();
  await who.getByText('Noor Haddad: 4.5 / 7').waitFor();
  await who.getByText('Léo Martin: 4 / 7').waitFor();
  await regrade.getByLabel(m('sg_regrade_reason')).fill('Tracheids conduct water too: both answers are right.');
  await screenshot(page, 'teach-gradebook-regrade', { fullPage: true });
  const regraded = page.waitForResponse((r) => r.url().endsWith(`/assessments/${assessment.id}/regrade`));
  await regrade.getByRole('button', { name: mp('sg_regrade_submit', 1) }).click();
  assert.equal((await regraded).status(), 202);
  await regrade.getByText(mp('sg_regrade_queued', 2)).waitFor();
  // Noor's grade moves (4.5 → 6.5 of 7); Léo's does not, so he is not listed.
  const affected = regrade.locator('.sg-regrade-result');
  await affected.getByText(m('sg_regrade_change', { name: 'Noor Haddad', before: '4.5 / 7', after: '6.5 / 7' })).waitFor({ timeout: 30_000 });
  await affected.getByText(m('sg_regrade_done_watching')).waitFor({ timeout: 40_000 });
  assert.equal(await affected.getByText('Léo Martin').count(), 0, 'Léo’s grade did not change');
  await checkA11y(page, 'the gradebook after the regrade');
  await screenshot(page, 'teach-gradebook-regraded', { fullPage: true });
  const after = await ok(s.teacherToken, 'GET', `${s.base}/gradebook`);
  const pts = (who) => after.items.find((g) => g.item === assessment.id && g.student === s.people[who].id).points;
  assert.deepEqual([pts('noor'), pts('leo')], [6.5, 4]);
  // The grid above follows.
  await grid.getByRole('button', { name: m('sg_cell_label', { student: 'Noor Haddad', item: assessment.title, grade: '6.5 / 7' }) }).waitFor();

  // The CSV export: a download of what the API serves.
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: m('sg_export_csv') }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), `gradebook-${course.code}.csv`);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines[0], `Student,Email,Student ID,${assessment.title} (${assessment.id}),lab-report,Course total (%)`);
  assert.ok(lines.some((l) => l.startsWith(`Noor Haddad,${s.people.noor.email},${s.people.noor.id},6.5,`)), csv);
  assert.ok(lines.some((l) => l.startsWith(`Léo Martin,${s.people.leo.email},${s.people.leo.id},4,8,`)), csv);

  // Weighted categories: checks 70 %, labs 30 %; the grid groups its columns and weighs the total.
  const cats = page.locator('details.sg-categories');
  await cats.locator('summary').click();
  await cats.getByRole('button', { name: m('sg_category_add') }).click();
  await cats.getByRole('button', { name: m('sg_category_add') }).click();
  const fieldsets = cats.locator('fieldset:not(.sg-items)');
  for (const [i, [name, weight, item]] of [
    ['Checks', '70', assessment.title],
    ['Labs', '30', 'lab-report'],
  ].entries()) {
    const f = fieldsets.nth(i);
    await f.getByLabel(m('sg_category_name')).fill(name);
    await f.getByLabel(m('sg_category_weight_label')).fill(weight);
    await f.getByRole('group', { name: m('sg_category_items') }).getByLabel(item).check();
  }
  await cats.getByText(m('sg_weights_sum', { sum: '100%' })).waitFor();
  await cats.getByRole('button', { name: m('sg_categories_save') }).click();
  await cats.getByText(m('sg_categories_saved')).first().waitFor();
  await grid.getByRole('columnheader', { name: m('sg_category_weight', { name: 'Checks', weight: '70%' }) }).waitFor();
  // Léo: 0.7 × 4/7 + 0.3 × 8/10 = 64 %.
  await rowOf('Léo Martin').getByRole('cell', { name: '64%', exact: true }).waitFor();
  await checkA11y(page, 'the gradebook with categories');
  await screenshot(page, 'teach-gradebook-categories', { fullPage: true });

  // ---- Proctoring review ----
  await page.getByRole('navigation', { name: m('sg_nav_label') }).getByRole('link', { name: m('sg_nav_proctoring') }).click();
  await h1(page, m('sg_proctoring_title', { course: course.title })).waitFor();
  const flagged = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: m('sg_col_risk') }) });
  await flagged.getByRole('rowheader', { name: 'Léo Martin' }).waitFor();
  assert.equal(await flagged.getByRole('rowheader', { name: 'Noor Haddad' }).count(), 0, 'Noor was never flagged');
  await flagged.getByRole('button', { name: m('sg_open_record', { student: 'Léo Martin' }) }).click();
  const record = page.getByRole('region', { name: m('sg_record_title', { student: 'Léo Martin', assessment: assessment.title }) });
  await record.waitFor();
  // The plugin's flags with their reasons and evidence, and the timeline of the three switches.
  await record.locator('.sg-flag-card[data-flag="away"]').waitFor();
  await record.locator('.sg-flag-card[data-flag="risk-threshold"]').waitFor();
  await record.locator('.sg-flag-card[data-flag="away"]').locator('summary').click();
  await record.getByText(/^focus-lost at /).first().waitFor();
  const timeline = record.getByRole('table').filter({ has: page.getByRole('columnheader', { name: m('sg_col_signal') }) });
  assert.equal(await timeline.getByRole('cell', { name: m('sg_sig_focus_lost'), exact: true }).count(), 3);
  assert.equal(await timeline.getByRole('cell', { name: m('sg_sig_focus_regained'), exact: true }).count(), 3);
  await timeline.getByRole('cell', { name: m('sg_secs', { n: 25 }) }).first().waitFor();
  await audit(page, 'proctoring-record', { fullPage: true });
  // Confirmed, with a comment: the attempt leaves the waiting queue; the review is on the record.
  const comment = 'Three absences of 25 s in a closed-book check; discussed with Léo, who agrees.';
  await record.getByLabel(new RegExp(`^${m('sg_confirm')}`)).check();
  await record.getByLabel(m('sg_review_comment')).fill(comment);
  const reviewed = page.waitForResponse((r) => r.url().endsWith(`/attempts/${s.attempts.leo.id}/proctoring/review`));
  await record.getByRole('button', { name: m('sg_review_submit') }).click();
  assert.equal((await reviewed).status(), 200);
  await record.getByText(m('sg_review_saved_confirmed')).first().waitFor();
  await record.locator('.sg-reviews').getByText(comment).waitFor();
  await page.getByText(m('sg_flagged_none')).waitFor();
  await page.getByLabel(m('sg_flagged_reviewed')).check();
  await flagged.getByRole('rowheader', { name: 'Léo Martin' }).waitFor();
  await flagged.getByText(m('sg_decision_confirmed')).waitFor();
  const rec = await ok(s.teacherToken, 'GET', `/api/v1/assessments/${assessment.id}/attempts/${s.attempts.leo.id}/proctoring`);
  assert.deepEqual(rec.state.reviews.map((r) => [r.decision, r.comment]), [['confirmed', comment]]);
  await checkA11y(page, 'the proctoring review, reviewed');

  // ---- Tutor insights and the policy, on the seeded course (the tutor has been asked there) ----
  const bio = seed.course;
  await page.goto(`/teach/courses/${bio.id}/tutor`);
  await h1(page, m('sg_tutor_title', { course: bio.title })).waitFor();
  const recent = page.getByRole('region', { name: m('sg_ins_recent') });
  await recent.getByText(seed.tutor.question).waitFor();
  await recent.getByText(/^Student \d+,/).first().waitFor();
  await page.getByRole('link', { name: seed.tutor.citation.itemTitle }).first().waitFor();
  await audit(page, 'tutor-insights', { fullPage: true });
  const policy = page.getByRole('form', { name: m('sg_policy_title') });
  await policy.getByLabel(m('sg_policy_show_names')).check();
  const saved = page.waitForResponse((r) => r.url().endsWith('/tutor/policy') && r.request().method() === 'PUT');
  await policy.getByRole('button', { name: m('sg_policy_save') }).click();
  assert.equal((await saved).status(), 200);
  await policy.getByText(m('sg_policy_saved')).waitFor();
  // The seeded question was asked by the teacher: now shown by name.
  await recent.getByText(/^Margaret Okafor/).first().waitFor();
  const bioApi = `/api/v1/institutions/${slug}/courses/${bio.id}`;
  assert.deepEqual(await ok(s.teacherToken, 'GET', `${bioApi}/tutor/policy`), { enabled: true, show_names: true });
  await screenshot(page, 'teach-tutor-names');
  // Put the seeded policy back for whatever runs next.
  await ok(s.teacherToken, 'PUT', `${bioApi}/tutor/policy`, { enabled: true, show_names: false });

  w.assertClean('the instructor’s pages');
});

test('a student sees no staff page, and the API refuses the calls', { timeout: 120_000 }, async () => {
  const student = seed.students[1];
  const { context, page, w } = await signedInPage(browser, student);
  // The header offers no Teaching link to a student.
  assert.equal(await page.getByRole('navigation', { name: m('nav_main') }).getByRole('link', { name: m('nav_teaching') }).count(), 0);

  const course = seed.course.id;
  const staffCalls = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/api/') && /\/(gradebook|grade-categories|manual-queue|proctoring|tutor\/insights|tutor\/policy|enrolments)/.test(p)) staffCalls.push(p);
  });
  for (const section of ['gradebook', 'grading', 'proctoring', 'tutor']) {
    await page.goto(`/teach/courses/${course}/${section}`);
    await h1(page, m('sg_forbidden_title')).waitFor();
    await page.getByText(m('sg_forbidden_body')).waitFor();
    assert.equal(await page.getByRole('table').count(), 0);
    if (section === 'gradebook') await audit(page, 'grading-not-permitted');
    else await checkA11y(page, `not permitted: ${section}`);
  }
  assert.deepEqual(staffCalls, [], 'the pages make no staff call for a student');

  // The API refuses the same calls (the pages hide nothing the API would allow).
  const token = await login(student);
  const base = `/api/v1/institutions/${slug}/courses/${course}`;
  const quiz = seed.assessments.quiz.id;
  const warmup = seed.assessments.warmup;
  const refused = [
    ['GET', `${base}/gradebook`],
    ['GET', `${base}/gradebook.csv`],
    ['GET', `${base}/proctoring/flagged`],
    ['GET', `${base}/tutor/insights`],
    ['PUT', `${base}/tutor/policy`, { enabled: false, show_names: true }],
    ['PUT', `${base}/grade-categories`, { categories: [{ id: 'all', name: 'All', weight: 100, items: [warmup.id] }] }],
    ['PUT', `${base}/students/${student.id}/grades/${warmup.id}`, { points: 3, max_points: 3, reason: 'I deserve it' }],
    ['GET', `/api/v1/assessments/${quiz}/manual-queue`],
    ['POST', `/api/v1/assessments/${quiz}/regrade`, { keys: { oxygen_source: { true_false: false } }, reason: 'x' }],
    ['PUT', `/api/v1/assessments/${warmup.id}/attempts/${warmup.attempts[1]}/questions/colour/manual-grade`, { criteria: { mechanism: 1 }, version: 0 }],
  ];
  for (const [method, path, body] of refused) {
    const r = await request(token, method, path, { body });
    assert.ok(r.status === 403 || r.status === 404, `${method} ${path} → ${r.status} for a student: ${JSON.stringify(r.body)}`);
  }
  // Their own grades stay theirs to read.
  assert.equal((await request(token, 'GET', `${base}/students/${student.id}/grades`)).status, 200);
  w.assertClean('the staff pages for a student');
});
