// The exam page in a real browser against a real server (see harness.mjs and seed.mjs):
//
// - a student takes the proctored quiz with every question type: the start page's notice,
//   a double-clicked Start (one attempt), a hint with its cost, a switch to another tab (the
//   focus-loss signal reaches the attempt's proctoring record), copy and paste into an answer,
//   two answers given offline (shown as offline, sent in order when the connection returns), a
//   reload with an answer not yet sent (nothing lost), submit, and the grade with feedback;
// - a timed attempt left open until its deadline: the server submits it and the page shows so;
// - a keyboard-only run: every question type answered and the attempt submitted with Tab,
//   Space, Enter and the arrow keys.
//
// axe runs on the start page, the exam page, the submit dialog and the result; screenshots at
// desktop and phone size. Every failed request and console error fails the test unless declared.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, config, launch, msg, screenshot, signedInPage, until } from './harness.mjs';

const { url, seed } = config();
const quiz = seed.assessments.quiz;
const timed = seed.assessments.timed;
const course = seed.course.id;
const startPath = (a) => `/courses/${course}/assessments/${a.id}`;
const attemptPattern = (a) => new RegExp(`/courses/${course}/assessments/${a.id}/attempts/([^/?#]+)$`);
const m = (key, params) => msg('en', key, params);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// ---- The API, to check what reached the server ----

async function token(person) {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: person.institution, email: person.email, password: person.password }),
  });
  assert.equal(r.status, 200, `login as ${person.email}`);
  return (await r.json()).access_token;
}

async function apiGet(bearer, path) {
  const r = await fetch(url + path, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(r.status, 200, `GET ${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

// ---- The page ----

/** A signed-in student's page on an assessment's start page, with its watcher. */
async function openStart(person, assessment, options = {}) {
  const { context, page, w } = await signedInPage(browser, person, options);
  await page.goto(startPath(assessment));
  await page.getByRole('heading', { level: 1, name: assessment.title }).waitFor();
  return { context, page, w };
}

const section = (page, q) => page.locator(`section[data-question="${q.id}"]`);
const saveState = (page, q) => section(page, q).locator('.save-state');

async function waitState(page, q, state) {
  await page.waitForFunction(
    ([id, s]) => document.querySelector(`section[data-question="${id}"] .save-state`)?.getAttribute('data-state') === s,
    [q.id, state],
  );
}

/** The presented order of an ordering question's items (their labels). */
const currentOrder = (page, q) => section(page, q).locator('.order-text').allInnerTexts();

/** Answers one question with the mouse and the keyboard's typing, by its type. */
async function answer(page, q, value) {
  const s = section(page, q);
  const label = (id) => q.labels[id] ?? id;
  switch (q.type) {
    case 'single_choice':
      await s.getByLabel(label(value.choices[0]), { exact: true }).check();
      break;
    case 'multiple_choice':
      for (const c of value.choices) await s.getByLabel(label(c), { exact: true }).check();
      break;
    case 'true_false':
      await s.getByLabel(value.boolean ? m('exam_true') : m('exam_false'), { exact: true }).check();
      break;
    case 'numeric':
      await s.getByLabel(m('exam_number_value'), { exact: true }).fill(String(value.number.value));
      if (value.number.unit) await s.getByLabel(m('exam_number_unit'), { exact: true }).selectOption(value.number.unit);
      break;
    case 'short_answer':
      await s.getByLabel(q.prompt, { exact: true }).fill(value.text);
      break;
    case 'essay':
      await s.getByLabel(q.prompt, { exact: true }).fill(value.essay);
      break;
    case 'matching':
      for (const p of value.pairs) await s.getByLabel(label(p.left), { exact: true }).selectOption({ label: label(p.right) });
      break;
    case 'ordering': {
      const want = value.sequence.map(label);
      for (let i = 0; i < want.length; i++) {
        const at = (await currentOrder(page, q)).indexOf(want[i]);
        for (let k = at; k > i; k--) await s.getByRole('button', { name: m('exam_order_up', { item: want[i] }) }).click();
      }
      assert.deepEqual(await currentOrder(page, q), want);
      break;
    }
    case 'fill_blanks':
      for (const [i, b] of value.blanks.entries()) {
        await s.getByLabel(m('exam_blank_n', { n: i + 1, total: value.blanks.length }), { exact: true }).fill(b);
      }
      break;
    default:
      throw new Error(`no way to answer a ${q.type} question`);
  }
}

/**
 * Takes the browser's focus emulation off, so that bringing another page to the front takes
 * the focus from this one for real (window `blur`, then `focus` on return). Playwright
 * otherwise tells every page it has the focus.
 */
async function realFocus(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
}

const byId = (id) => quiz.questions.find((q) => q.id === id);

test('a student takes the proctored quiz: every question type, a tab switch, offline answers, a reload, submit, grade and feedback', { timeout: 240_000 }, async () => {
  const student = seed.students[0];
  const studentToken = await token(student);
  const teacherToken = await token(seed.teacher);
  const { context, page, w } = await openStart(student, quiz);

  // The notice comes before Start and says what is recorded.
  const notice = page.getByRole('region', { name: m('exam_proctor_title') });
  await notice.waitFor();
  for (const key of ['exam_proctor_visibility', 'exam_proctor_clipboard', 'exam_proctor_server']) {
    await notice.getByText(m(key)).waitFor();
  }
  const start = page.getByRole('button', { name: m('exam_start'), exact: true });
  assert.ok(
    await notice.evaluate((n, b) => Boolean(n.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING), await start.elementHandle()),
    'the notice is above the Start button',
  );
  await page.getByText(m('exam_facts_hint_cost', { cost: '25%' })).waitFor();
  await checkA11y(page, 'the exam start page');
  await screenshot(page, 'exam-start', { fullPage: true });

  // A double click starts one attempt.
  const starts = [];
  page.on('request', (r) => r.method() === 'POST' && /\/attempts$/.test(new URL(r.url()).pathname) && starts.push(r));
  await start.dblclick();
  await page.waitForURL(attemptPattern(quiz));
  const attemptId = attemptPattern(quiz).exec(new URL(page.url()).pathname)[1];
  assert.equal(starts.length, 1, 'one start request for a double click');
  const attemptApi = `/api/v1/assessments/${quiz.id}/attempts/${attemptId}`;
  await page.getByRole('heading', { level: 1, name: quiz.title }).waitFor();
  await page.getByText(m('exam_tutor_unavailable')).waitFor();
  const timer = page.getByRole('timer');
  const left = await timer.innerText();
  assert.match(left, /^4[45]:\d\d$/, `the countdown starts from the server's 45 minutes: ${left}`);
  await realFocus(context, page);

  // Every type, with two answers wrong for now (corrected offline below).
  const offlineFixes = ['organelle', 'pigment'].map(byId);
  const wrongFirst = { organelle: { choices: ['mitochondrion'] }, pigment: { text: 'carotene' } };
  const types = new Set();
  for (const q of quiz.questions) {
    types.add(q.type);
    await answer(page, q, wrongFirst[q.id] ?? q.answer);
  }
  assert.deepEqual([...types].sort(), ['essay', 'fill_blanks', 'matching', 'multiple_choice', 'numeric', 'ordering', 'short_answer', 'single_choice', 'true_false']);
  for (const q of quiz.questions) await waitState(page, q, 'saved');
  await saveState(page, byId('pigment')).filter({ hasText: m('exam_state_saved') }).waitFor();

  // A hint: its cost on the button, a confirmation, then the text.
  const organelle = section(page, byId('organelle'));
  await organelle.getByRole('button', { name: m('exam_hint_button', { cost: '25%' }) }).click();
  await organelle.getByText(m('exam_hint_confirm', { cost: '25%', points: '0.25' })).waitFor();
  await organelle.getByRole('button', { name: m('exam_hint_take') }).click();
  await organelle.getByText(byId('organelle').hints[0]).waitFor();

  // Copy and paste into an answer, with the keyboard.
  const pigmentField = section(page, byId('pigment')).getByLabel(byId('pigment').prompt, { exact: true });
  await pigmentField.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+C');
  await page.keyboard.press('Control+V');

  // Another tab to the front, then back: the focus loss reaches the proctoring record.
  const other = await context.newPage();
  await other.goto('about:blank');
  await other.bringToFront();
  await page.waitForTimeout(1500);
  await page.bringToFront();
  await other.close();
  const record = await until('the focus-loss signal in the proctoring record', async () => {
    const r = await apiGet(teacherToken, `${attemptApi}/proctoring`);
    const all = r.batches.flatMap((b) => b.signals);
    const lost = all.some((s) => s.kind === 'focus_lost');
    // The return, with how long the page was away (not the one recorded when the page opened).
    const back = all.some((s) => s.kind === 'focus_regained' && s.duration_ms >= 1000);
    return lost && back && all.some((s) => s.kind === 'paste') ? r : undefined;
  });
  const signals = record.batches.flatMap((b) => b.signals);
  assert.ok(signals.some((s) => s.kind === 'paste' && s.detail === 'paste-into-answer:pigment'), JSON.stringify(signals));
  assert.ok(signals.some((s) => s.kind === 'copy'), 'the copy was recorded');
  assert.ok(signals.some((s) => s.kind === 'heartbeat'), 'heartbeats');
  const seqs = record.batches.map((b) => b.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'batches in sequence');
  assert.equal(new Set(seqs).size, seqs.length, 'no sequence number twice');

  await checkA11y(page, 'the exam page');
  await screenshot(page, 'exam');

  // Offline: two answers, each shown as waiting for the connection, kept on the device.
  const before = (await apiGet(studentToken, attemptApi)).answers;
  const offlineFailures = w.allow({ failure: /ERR_INTERNET_DISCONNECTED/ });
  await context.setOffline(true);
  await page.getByText(m('exam_offline_banner')).first().waitFor();
  for (const q of offlineFixes) {
    await answer(page, q, q.answer);
    await saveState(page, q).filter({ hasText: m('exam_state_offline') }).waitFor();
  }
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('.answer.')));
  assert.equal(stored.length, 2, `both answers are stored on the device: ${stored}`);
  await section(page, offlineFixes[1]).evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await screenshot(page, 'exam-offline');
  const sent = [];
  const onRequest = (r) => {
    const p = new URL(r.url()).pathname;
    if (r.method() === 'PUT' && p.startsWith(`${attemptApi}/answers/`)) sent.push(decodeURIComponent(p.split('/').pop()));
  };
  page.on('request', onRequest);
  await context.setOffline(false);
  for (const q of offlineFixes) await waitState(page, q, 'saved');
  page.off('request', onRequest);
  assert.deepEqual(sent.slice(0, 2), ['organelle', 'pigment'], 'replayed in the order they were given');
  const afterOnline = (await apiGet(studentToken, attemptApi)).answers;
  for (const q of offlineFixes) {
    assert.deepEqual(afterOnline[q.id].response, q.answer, `${q.id} reached the server`);
    assert.ok(afterOnline[q.id].version > before[q.id].version, `${q.id}: a newer version`);
  }
  assert.ok(afterOnline.organelle.saved_at <= afterOnline.pigment.saved_at, 'saved in order');
  offlineFailures.remove();

  // Another device saved this question under a higher version; the page's next save is refused
  // (409), and the newer answer, the one typed here, still wins: resent above the server's version.
  const essay = byId('greenhouse');
  const elsewhere = await fetch(`${url}${attemptApi}/answers/greenhouse`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${studentToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ response: { essay: 'Written on another device.' }, version: 50 }),
  });
  assert.equal(elsewhere.status, 200);
  const conflict = w.expect({ status: 409, url: `${attemptApi}/answers/greenhouse`, method: 'PUT' });
  const edited = `${essay.answer.essay} Temperature matters too.`;
  await section(page, essay).getByLabel(essay.prompt, { exact: true }).fill(edited);
  await until('the refused save', () => conflict.seen > 0);
  await waitState(page, essay, 'saved');
  const resolved = (await apiGet(studentToken, attemptApi)).answers.greenhouse;
  assert.deepEqual(resolved.response, { essay: edited }, 'the newer, local answer is kept');
  assert.equal(resolved.version, 51, 'resent as max(server, local) + 1');
  conflict.remove();

  // A reload with an answer typed but not yet sent: it was stored first, and comes back.
  const longer = `${essay.answer.essay} Beyond that point the plant is limited by light.`;
  await section(page, essay).getByLabel(essay.prompt, { exact: true }).fill(longer);
  // Requests in flight when the page unloads (a heartbeat batch, say) are aborted: that is the point.
  await w.allowing({ failure: 'net::ERR_ABORTED' }, async () => {
    await page.reload();
    await page.getByRole('heading', { level: 1, name: quiz.title }).waitFor();
  });
  assert.equal(await section(page, essay).getByLabel(essay.prompt, { exact: true }).inputValue(), longer);
  await waitState(page, essay, 'saved');
  const afterReload = await apiGet(studentToken, attemptApi);
  assert.equal(afterReload.answers.greenhouse.response.essay, longer, 'the unsent answer reached the server after the reload');
  for (const q of quiz.questions) {
    assert.deepEqual(afterReload.answers[q.id]?.response, q.id === 'greenhouse' ? { essay: longer } : q.answer, `${q.id} kept`);
  }
  assert.deepEqual(await currentOrder(page, byId('sequence')), byId('sequence').answer.sequence.map((id) => byId('sequence').labels[id]));
  assert.equal(await section(page, byId('pigment')).getByLabel(byId('pigment').prompt, { exact: true }).inputValue(), 'Chlorophyll');

  // Leaving and coming back: the start page offers the attempt in progress.
  await w.allowing({ failure: 'net::ERR_ABORTED' }, async () => {
    await page.goto(startPath(quiz));
    await page.getByText(m('exam_facts_attempts_value', { used: 1, allowed: 2 })).waitFor();
  });
  await page.getByRole('link', { name: m('exam_resume', { n: 1 }) }).click();
  await page.waitForURL(attemptPattern(quiz));
  await waitState(page, essay, 'saved');

  // Submit, with the confirmation.
  await page.getByRole('button', { name: m('exam_submit'), exact: true }).first().click();
  const dialog = page.getByRole('dialog', { name: m('exam_submit_title') });
  await dialog.waitFor();
  await dialog.getByText(m('exam_submit_all_answered')).waitFor();
  await checkA11y(page, 'the submit dialog');
  await screenshot(page, 'exam-submit-dialog');
  await dialog.getByRole('button', { name: m('exam_submit_confirm'), exact: true }).click();
  await page.locator('#submitted-state').getByText(m('exam_submitted_title')).waitFor();

  // The grade and the feedback, as the gradebook has them.
  const grade = await until('the grade', async () => {
    const g = await apiGet(studentToken, `${seed.course.api}/students/${student.id}/grades`);
    return g.items.find((i) => i.item === quiz.id && i.attempt === attemptId);
  });
  const fmt = (n) => new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(n);
  const mine = grade.attempts.find((a) => a.attempt === attemptId);
  await page
    .locator('#attempt-score')
    .getByText(m('exam_result_score', { points: fmt(mine.points), max: fmt(mine.max_points) }))
    .waitFor({ timeout: 40_000 });
  const hinted = grade.questions.find((q) => q.question_id === 'organelle');
  assert.equal(hinted.points, 0.75, 'the hint cost a quarter of the question');
  for (const r of grade.questions) {
    const card = page.locator(`#result-${r.question_id}`);
    await card.getByText(m('exam_result_points', { points: fmt(r.points), max: fmt(r.max_points) })).waitFor();
    for (const line of [...r.feedback, ...r.explanation]) await card.getByText(line, { exact: true }).first().waitFor();
  }
  assert.ok(grade.questions.some((q) => q.feedback.length > 0), 'some feedback to show');
  // Nothing of the attempt is left on the device.
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('lectern.exam.'))), []);
  await checkA11y(page, 'the exam result');
  await screenshot(page, 'exam-result', { fullPage: true });
  // The start page lists the attempt with its score, and links to this result.
  await page.getByRole('link', { name: m('exam_back_to_assessment') }).click();
  const listed = page.getByRole('link', { name: new RegExp(`^Attempt 1, submitted .*: ${fmt(mine.points)} / ${fmt(mine.max_points)} points$`) });
  await listed.waitFor();
  assert.ok((await listed.getAttribute('href')).endsWith(`/attempts/${attemptId}`));
  w.assertClean('the proctored quiz');
  await context.close();
});

test('a timed attempt left open is submitted by the deadline while the page is open', { timeout: 180_000 }, async () => {
  const student = seed.students[1];
  const studentToken = await token(student);
  const { context, page, w } = await openStart(student, timed);
  await page.getByRole('button', { name: m('exam_start'), exact: true }).click();
  await page.waitForURL(attemptPattern(timed));
  const attemptId = attemptPattern(timed).exec(new URL(page.url()).pathname)[1];
  const submits = [];
  page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/submit') && submits.push(r.url()));

  const first = timed.questions[0];
  await answer(page, first, first.answer);
  await waitState(page, first, 'saved');
  const shown = await page.getByRole('timer').innerText();
  assert.match(shown, /^0[01]:\d\d$/, `about a minute: ${shown}`);

  // The server's timer submits at the deadline; the page notices and says so.
  await page.getByText(m('exam_submitted_title')).waitFor({ timeout: (timed.timeLimitSecs + 30) * 1000 });
  await page.locator('#submitted-state').getByText(/The time ran out/).waitFor();
  const attempt = await apiGet(studentToken, `/api/v1/assessments/${timed.id}/attempts/${attemptId}`);
  assert.equal(attempt.state, 'submitted');
  assert.equal(attempt.submitted_by, 'deadline');
  assert.deepEqual(attempt.answers[first.id].response, first.answer);
  assert.deepEqual(submits, [], 'the server submitted it, not the page');
  await screenshot(page, 'exam-timed-result');
  w.assertClean('the timed attempt');
  await context.close();
});

// ---- Keyboard only ----

/** Presses Tab until the focused element matches `selector` (a CSS selector). */
async function tabTo(page, selector, max = 200) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

const focusedValue = (page) => page.evaluate(() => document.activeElement.value);

test('the exam page works with the keyboard alone', { timeout: 180_000 }, async () => {
  const student = seed.students[1];
  const studentToken = await token(student);
  const { context, page, w } = await openStart(student, quiz, { locale: 'en-GB' });

  await tabTo(page, 'button.start-button');
  await page.keyboard.press('Enter');
  await page.waitForURL(attemptPattern(quiz));
  const attemptId = attemptPattern(quiz).exec(new URL(page.url()).pathname)[1];
  await page.getByRole('heading', { level: 1, name: quiz.title }).waitFor();
  const q = (id) => `section[data-question="${id}"]`;

  // Single choice: Space picks the first option, the arrows move the choice.
  const organelle = byId('organelle');
  await tabTo(page, `${q('organelle')} input[type=radio]`);
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focusedValue(page), organelle.answer.choices[0]);
  // The focus is visible.
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
  // A hint: Enter on its button, the confirmation takes the focus, Enter shows the hint and
  // puts the focus on it.
  await tabTo(page, `${q('organelle')} .hints button`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((text) => document.activeElement?.textContent?.trim() === text, m('exam_hint_take'));
  await page.keyboard.press('Enter');
  await page.waitForFunction((text) => document.activeElement?.textContent?.includes(text), organelle.hints[0]);

  // Multiple choice: Tab between boxes, Space ticks.
  const inputs = byId('inputs');
  for (const c of inputs.answer.choices) {
    await tabTo(page, `${q('inputs')} input[value="${c}"]`);
    await page.keyboard.press('Space');
  }
  // True/false.
  await tabTo(page, `${q('oxygen_source')} input[value="true"]`);
  await page.keyboard.press('Space');
  // Numeric: type the value, arrow the unit.
  const wavelength = byId('wavelength');
  await tabTo(page, `${q('wavelength')} input`);
  await page.keyboard.type(String(wavelength.answer.number.value));
  await tabTo(page, `${q('wavelength')} select`);
  while ((await focusedValue(page)) !== wavelength.answer.number.unit) await page.keyboard.press('ArrowDown');
  // Short answer.
  await tabTo(page, `${q('pigment')} input`);
  await page.keyboard.type(byId('pigment').answer.text);
  // Matching: a select per item, chosen with the arrows.
  const stages = byId('stages');
  for (const [i, p] of stages.answer.pairs.entries()) {
    await tabTo(page, `${q('stages')} select[id$="-m${i}"]`);
    const want = await page.evaluate(
      (label) => [...document.activeElement.options].find((o) => o.text === label)?.value,
      stages.labels[p.right],
    );
    while ((await focusedValue(page)) !== want) await page.keyboard.press('ArrowDown');
  }
  // Ordering: the move buttons keep the focus on the item that moved.
  const sequence = byId('sequence');
  const want = sequence.answer.sequence.map((id) => sequence.labels[id]);
  for (let i = 0; i < want.length; i++) {
    const at = (await currentOrder(page, sequence)).indexOf(want[i]);
    if (at === i) continue;
    await page.locator(q('sequence')).getByRole('button', { name: m('exam_order_up', { item: want[i] }) }).waitFor();
    await tabTo(page, `${q('sequence')} button[aria-label="${m('exam_order_up', { item: want[i] }).replaceAll('"', '\\"')}"]`);
    // The focus stays on the moving item's button, so Enter again moves it again.
    for (let k = at; k > i; k--) await page.keyboard.press('Enter');
  }
  assert.deepEqual(await currentOrder(page, sequence), want);
  // Blanks and the essay.
  const equation = byId('equation');
  for (const [i, b] of equation.answer.blanks.entries()) {
    await tabTo(page, `${q('equation')} input[id$="-b${i}"]`);
    await page.keyboard.type(b);
  }
  await tabTo(page, `${q('greenhouse')} textarea`);
  await page.keyboard.type('Carbon dioxide limits the rate on a bright day.');

  for (const question of quiz.questions) await waitState(page, question, 'saved');
  const saved = (await apiGet(studentToken, `/api/v1/assessments/${quiz.id}/attempts/${attemptId}`)).answers;
  for (const question of quiz.questions.filter((x) => x.id !== 'greenhouse')) {
    assert.deepEqual(saved[question.id]?.response, question.answer, `${question.id} answered with the keyboard`);
  }

  // Submit: Enter opens the dialog with the focus on "Keep working"; Tab, Enter submits.
  await tabTo(page, `.exam-end button.primary`);
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: m('exam_submit_title') }).waitFor();
  await page.waitForFunction((text) => document.activeElement?.textContent?.trim() === text, m('exam_submit_keep_working'));
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), m('exam_submit_confirm'));
  await page.keyboard.press('Enter');
  await page.locator('#submitted-state').getByText(m('exam_submitted_title')).waitFor();
  w.assertClean('the keyboard-only run');
  await context.close();
});
