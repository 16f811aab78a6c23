// The instructor's course-building pages in a real browser against a real server, as one journey
// of the seeded teacher (an institution `staff` member: she may create courses and list people):
//
// - /teach lists the courses she teaches; she creates a new course and lands in its editor;
// - the editor: modules and items added, a page written in Markdown whose preview (the content
//   plugin's rendering) is what a student then sees, a video uploaded with a visible progress
//   bar (the upload throttled so the bar moves), items reordered by keyboard and by drag and
//   drop, a concurrent change by someone else (412) shown and re-applied, an item's release
//   date, prerequisite and completion rule, the course completion rule;
// - the quiz builder: a quiz with one question of every type the grading plugin supports,
//   checked through the API; "preview as a student" on the real exam page, graded for the instructor;
//   published and put in the outline;
// - enrolment: a CSV file with one bad row, previewed row by row, applied, the bad row reported;
//   one person added by email and given another role;
// - a keyboard-only run of the quiz builder.
//
// Every page is checked with axe at desktop and phone width and saved as screenshots
// (`teach-*`); every console error or failed request fails the test unless declared.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, checkA11y, config, launch, msg, newContext, screenshot, signIn, watch } from './harness.mjs';

const { url, seed } = config();
const teacher = seed.teacher;
const m = (key, params) => msg('en', key, params);
const mp = (key, n, params = {}) => msg('en', `${key}_${n === 1 ? 'one' : 'other'}`, { n, ...params });
const VIDEO = new URL('./fixtures/photosynthesis.webm', import.meta.url);

/** What the journey makes, shared by the tests below (they run in order). */
const made = {
  code: `PHY-${Date.now().toString(36).slice(-5).toUpperCase()}`,
  title: 'Plant Physiology',
};

let browser;
let context;
let page;
let w;

before(async () => {
  browser = await launch();
  context = await newContext(browser);
  page = await context.newPage();
  w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  // A course without a completion rule answers 404 to GET …/completion-rule (the editor reads that as "none").
  w.allow({ status: 404, url: /\/completion-rule$/, method: 'GET' });
  await page.goto('/');
  await signIn(page, teacher);
});

after(async () => {
  await browser?.close();
});

/** axe at desktop and phone width (where the page must not scroll sideways), then the screenshots. */
async function audit(name, { fullPage = false } = {}) {
  await checkA11y(page, `${name} (desktop)`);
  await page.setViewportSize(PHONE);
  try {
    await checkA11y(page, `${name} (phone)`);
    // Reflow (WCAG 1.4.10): nothing makes the page scroll sideways at phone width.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${name}: the page is ${width} px wide at phone width`);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
  await screenshot(page, `teach-${name}`, { fullPage });
}

const main = () => page.getByRole('main');
const h1 = (name) => page.getByRole('heading', { level: 1, name, exact: true });

let token;
/** The API as the teacher, with a bearer token (not the page's cookie). */
async function api(method, path, body, headers = {}) {
  if (!token) {
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ institution: teacher.institution, email: teacher.email, password: teacher.password }),
    });
    token = (await login.json()).access_token;
  }
  const r = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return { data: text ? JSON.parse(text) : null, etag: r.headers.get('etag') };
}

const courseApi = () => `/api/v1/institutions/${seed.institution.slug}/courses/${made.course}`;
const outline = async () => (await api('GET', `${courseApi()}/content/outline`)).data;
const itemIds = async () => (await outline()).modules.map((mod) => mod.items.map((i) => i.title));

/** The editor's block of a module, by its title. */
const moduleBlock = (title) =>
  main().locator('li.sc-module', { has: page.getByRole('heading', { level: 3, name: title, exact: true }) });
/** An item's row in the editor, by its title. */
const itemRow = (title) => main().locator('li.sc-item', { has: page.locator('.sc-item-title', { hasText: new RegExp(`^${title}$`) }) });

/** Adds an item through a module's "Add an item" form. */
async function addItem(module, { kind, title, fill }) {
  const block = moduleBlock(module);
  const form = block.locator('details.sc-add');
  if (!(await form.evaluate((d) => d.open))) await form.locator('summary').click();
  await form.getByLabel(m('sc_item_kind'), { exact: true }).selectOption({ label: kind });
  await form.getByLabel(m('sc_item_title'), { exact: true }).fill(title);
  if (fill) await fill(form);
  await form.getByRole('button', { name: m('sc_add_item') }).click();
  await itemRow(title).waitFor();
}

test('/teach lists my courses; a new course opens in the editor', { timeout: 60_000 }, async () => {
  await page.getByRole('navigation', { name: m('nav_main') }).getByRole('link', { name: m('nav_teaching') }).click();
  await h1(m('sc_home_title')).waitFor();
  const mine = main().getByRole('region', { name: m('sc_home_courses') });
  const seeded = mine.getByRole('listitem').filter({ hasText: seed.course.title });
  await seeded.waitFor();
  const links = seeded.getByRole('navigation', { name: m('sc_course_links', { course: seed.course.title }) });
  for (const key of ['sc_link_editor', 'sc_link_new_quiz', 'sc_link_enrolment', 'sc_link_gradebook', 'sc_link_grading', 'sc_link_proctoring', 'sc_link_tutor']) {
    await links.getByRole('link', { name: m(key), exact: true }).waitFor();
  }
  assert.equal(
    await links.getByRole('link', { name: m('sc_link_gradebook'), exact: true }).getAttribute('href'),
    `/teach/courses/${seed.course.id}/gradebook`,
  );
  await audit('home');

  const create = main().getByRole('region', { name: m('sc_create_title') });
  await create.getByLabel(m('sc_course_code')).fill(made.code);
  await create.getByLabel(m('sc_course_title')).fill(made.title);
  await create.getByLabel(m('sc_course_description')).fill('How plants move water and gases: stomata, xylem and phloem.');
  await create.getByRole('button', { name: m('sc_create_submit') }).click();
  await h1(m('sc_editor_title', { course: made.title })).waitFor();
  made.course = page.url().match(/\/teach\/courses\/([^/]+)\/edit$/)[1];
  w.assertClean('/teach');
});

test('the editor: modules, a page with the plugin’s preview, a video upload with progress', { timeout: 120_000 }, async () => {
  // Two modules.
  for (const title of ['Week 1: Leaves', 'Week 2: Transport']) {
    await field(m('sc_new_module')).fill(title);
    await main().getByRole('button', { name: m('sc_add_module') }).click();
    await moduleBlock(title).waitFor();
  }

  // A page, then its editor: Markdown saved and rendered by the content plugin.
  await addItem('Week 1: Leaves', {
    kind: m('st_kind_page'),
    title: 'Stomata',
    fill: (form) => form.getByLabel(m('sc_page_markdown'), { exact: true }).fill('Stomata are pores in the leaf.'),
  });
  await itemRow('Stomata').getByRole('link', { name: m('sc_edit_page_named', { title: 'Stomata' }) }).click();
  await h1(m('sc_page_editor_title', { title: 'Stomata' })).waitFor();
  const preview = main().locator('#page-preview');
  await preview.getByText('Stomata are pores in the leaf.').waitFor();
  await main().getByText(m('sc_rendered_by', { plugin: 'org.lectern.content@1.1.0' })).waitFor();

  const markdown = [
    'Stomata are pores in the leaf, each between two **guard cells**.',
    '',
    '## Opening and closing',
    '',
    'Guard cells swell with water and the pore opens; they go limp and it closes.',
    '',
    '| Condition | Stomata |',
    '| --- | --- |',
    '| Light | open |',
    '| Drought | closed |',
    '',
    '## Why it matters',
    '',
    '- Carbon dioxide comes in',
    '- Water vapour goes out',
  ].join('\n');
  await main().getByRole('textbox', { name: m('sc_page_markdown'), exact: true }).fill(markdown);
  // Unsaved: the content plugin renders it live (nothing stored), and the preview says so.
  await main().getByText(m('sc_preview_live')).waitFor();
  await preview.getByRole('heading', { name: 'Opening and closing' }).waitFor();
  await main().getByRole('button', { name: m('sc_page_save') }).click();
  await preview.getByRole('heading', { name: 'Opening and closing' }).waitFor();
  await main().getByText(m('sc_preview_current')).waitFor();
  assert.equal(await preview.locator('table tr').count(), 3);
  made.previewHtml = await preview.innerHTML();
  made.pageItem = (await outline()).modules[0].items[0].id;
  await audit('page-editor');
  w.assertClean('the page editor');

  // Back to the editor: upload the video, throttled so that the progress bar visibly moves.
  await page.getByRole('navigation', { name: m('st_breadcrumbs') }).getByRole('link', { name: made.title }).click();
  await h1(m('sc_editor_title', { course: made.title })).waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 16 * 1024 });
  // Every value the progress bar takes, recorded in the page as it changes.
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target;
        if (el instanceof Element && el.matches('.sc-upload [role=progressbar]')) window.__progress.push(Number(el.getAttribute('aria-valuenow')));
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'], childList: true });
  });
  const bytes = await readFile(VIDEO);
  await field(m('sc_media_choose')).setInputFiles({ name: 'stomata-lecture.webm', mimeType: 'video/webm', buffer: bytes });
  const bar = main().getByRole('progressbar', { name: m('sc_upload_progress', { name: 'stomata-lecture.webm' }) });
  await bar.waitFor();
  await page.waitForFunction(() => window.__progress.some((v) => v > 0 && v < 100), null, { timeout: 30_000 });
  await bar.scrollIntoViewIfNeeded();
  await screenshot(page, 'teach-upload-progress');
  await main().getByText(m('sc_upload_done', { name: 'stomata-lecture.webm' }), { exact: true }).first().waitFor({ timeout: 60_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const seen = await page.evaluate(() => window.__progress);
  assert.equal(await bar.getAttribute('aria-valuenow'), '100');
  assert.ok(seen.filter((v) => v > 0 && v < 100).length >= 2, `the bar moved through intermediate values: ${seen}`);
  const media = (await api('GET', `${courseApi()}/media`)).data.items;
  assert.equal(media.length, 1);
  assert.equal(media[0].content_type, 'video/webm');
  assert.equal(media[0].size, bytes.length);
  await main().getByRole('region', { name: m('sc_media_uploaded') }).getByRole('link', { name: 'stomata-lecture.webm' }).waitFor();
  // Private by default (served through the course's signed links); public is a choice per file.
  const publicBox = main().getByRole('checkbox', { name: m('sc_media_public_label', { name: 'stomata-lecture.webm' }) });
  assert.equal(await publicBox.isChecked(), false);
  assert.match(media[0].url, /\/blobs\/[0-9a-f]{64}\?m=/);
  const patched = () => page.waitForResponse((r) => r.request().method() === 'PATCH' && /\/media\/[0-9a-f]{64}$/.test(r.url()));
  await Promise.all([patched(), publicBox.check()]);
  await publicBox.scrollIntoViewIfNeeded();
  await screenshot(page, 'teach-files-public');
  const madePublic = (await api('GET', `${courseApi()}/media`)).data.items[0];
  assert.equal(madePublic.public, true);
  assert.ok(madePublic.url.endsWith(`/blobs/${madePublic.sha256}`), madePublic.url);
  await Promise.all([patched(), publicBox.uncheck()]);
  assert.equal((await api('GET', `${courseApi()}/media`)).data.items[0].public, false);

  // The video as an item, and a link.
  await addItem('Week 1: Leaves', {
    kind: m('st_kind_video'),
    title: 'Lecture: guard cells',
    fill: (form) => form.getByLabel(m('sc_item_media'), { exact: true }).selectOption({ label: 'stomata-lecture.webm' }),
  });
  await addItem('Week 2: Transport', {
    kind: m('st_kind_link'),
    title: 'Further reading: xylem',
    fill: (form) => form.getByLabel(m('sc_item_url'), { exact: true }).fill('https://en.wikipedia.org/wiki/Xylem'),
  });
  assert.deepEqual(await itemIds(), [['Stomata', 'Lecture: guard cells'], ['Further reading: xylem']]);

  // Captions for the video: a WebVTT file uploaded under Files, then a track in the item's settings.
  const vtt = 'WEBVTT\n\n00:00.000 --> 00:03.000\nGuard cells swell and the pore opens.\n';
  await field(m('sc_media_choose')).setInputFiles({ name: 'guard-cells.en.vtt', mimeType: 'text/vtt', buffer: Buffer.from(vtt) });
  await main().getByText(m('sc_upload_done', { name: 'guard-cells.en.vtt' }), { exact: true }).first().waitFor();
  await main().getByText(m('sc_item_settings', { title: 'Lecture: guard cells' })).click();
  const captions = main().getByRole('form', { name: m('sc_captions_title') });
  await captions.getByText(m('sc_captions_none')).waitFor();
  await captions.getByRole('button', { name: m('sc_captions_add') }).click();
  await captions.getByLabel(m('sc_captions_file')).selectOption({ label: 'guard-cells.en.vtt' });
  await captions.getByLabel(m('sc_captions_lang')).fill('en-gb');
  await captions.getByLabel(m('sc_captions_label')).fill('English (UK)');
  await captions.getByRole('checkbox', { name: m('sc_captions_default') }).check();
  await audit('editor-captions');
  await captions.getByRole('button', { name: m('sc_captions_save', { title: 'Lecture: guard cells' }) }).click();
  // The server's canonical form comes back into the form.
  await page.waitForFunction(() => document.querySelector('.sc-captions input[id$="-0-lang"]')?.value === 'en-GB');
  const lecture = (await outline()).modules.flatMap((x) => x.items).find((i) => i.title === 'Lecture: guard cells');
  const opened = (await api('GET', `${courseApi()}/content/items/${lecture.id}`)).data;
  assert.deepEqual(
    opened.captions.map((c) => [c.lang, c.label, c.default]),
    [['en-GB', 'English (UK)', true]],
  );
  await main().getByText(m('sc_item_settings', { title: 'Lecture: guard cells' })).click();
  await audit('editor', { fullPage: true });
  w.assertClean('the editor (items, upload)');
});

test('reordering by keyboard and by drag and drop; a concurrent change is shown, not overwritten', { timeout: 90_000 }, async () => {
  // Keyboard: the video moves above the page, and focus stays on its move buttons.
  const up = main().getByRole('button', { name: m('sc_move_up_named', { title: 'Lecture: guard cells' }) });
  await up.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.sc-module .sc-item .sc-item-title')?.textContent === 'Lecture: guard cells');
  assert.deepEqual(await itemIds(), [['Lecture: guard cells', 'Stomata'], ['Further reading: xylem']]);
  const focused = await page.evaluate(() => document.activeElement?.id);
  assert.match(focused, /^item-(up|down)-/, `focus stays on a move button: ${focused}`);
  // At the end of a module, "move down" crosses into the next one.
  await main().getByRole('button', { name: m('sc_move_down_named', { title: 'Stomata' }) }).focus();
  await page.keyboard.press('Enter');
  await moduleBlock('Week 2: Transport').locator('.sc-item-title', { hasText: 'Stomata' }).waitFor();
  assert.deepEqual(await itemIds(), [['Lecture: guard cells'], ['Stomata', 'Further reading: xylem']]);

  // Drag and drop by the handle: the link is dragged onto the video's row (dropped before it).
  // (A tall window, so that the handle and where it goes are on screen together.)
  await page.setViewportSize({ width: DESKTOP.width, height: 1600 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await itemRow('Further reading: xylem').locator('.sc-handle').dragTo(itemRow('Lecture: guard cells'));
  await moduleBlock('Week 1: Leaves').locator('.sc-item-title', { hasText: 'Further reading: xylem' }).waitFor();
  assert.deepEqual(await itemIds(), [['Further reading: xylem', 'Lecture: guard cells'], ['Stomata']]);
  // And the page back into week 1, dropped on the module (at its end).
  await page.evaluate(() => window.scrollTo(0, 0));
  await itemRow('Stomata').locator('.sc-handle').dragTo(moduleBlock('Week 1: Leaves').locator('.sc-module-head h3'));
  await moduleBlock('Week 1: Leaves').locator('.sc-item-title', { hasText: 'Stomata' }).waitFor();
  assert.deepEqual(await itemIds(), [['Further reading: xylem', 'Lecture: guard cells', 'Stomata'], []]);
  await page.setViewportSize(DESKTOP);

  // Someone else renames a module meanwhile (through the API): the next move is refused with 412,
  // the page shows their change and offers to apply ours again.
  const before = await outline();
  await api('PATCH', `${courseApi()}/content/modules/${before.modules[1].id}`, { title: 'Week 2: Water transport' }, { 'if-match': `"${before.version}"` });
  const refused = w.expect({ status: 412, url: /\/content\/order$/, method: 'PUT' });
  await main().getByRole('button', { name: m('sc_move_up_named', { title: 'Stomata' }) }).click();
  const notice = main().locator('#outline-conflict');
  await notice.waitFor();
  assert.match(await notice.innerText(), new RegExp(m('sc_conflict_title').replace(/[.?]/g, '\\$&')));
  // Their rename is on the page, and our move was not applied.
  await moduleBlock('Week 2: Water transport').waitFor();
  assert.deepEqual(await itemIds(), [['Further reading: xylem', 'Lecture: guard cells', 'Stomata'], []]);
  await checkA11y(page, 'the editor with a conflict');
  await screenshot(page, 'teach-editor-conflict');
  await notice.getByRole('button', { name: m('sc_conflict_reapply') }).click();
  await notice.waitFor({ state: 'detached' });
  assert.deepEqual(await itemIds(), [['Further reading: xylem', 'Stomata', 'Lecture: guard cells'], []]);
  assert.equal(refused.seen, 1);

  // Modules move too, by keyboard: week 2 up, then back down, focus following it.
  const moduleTitles = async () => (await outline()).modules.map((mod) => mod.title);
  await main().getByRole('button', { name: m('sc_move_up_named', { title: 'Week 2: Water transport' }) }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.sc-module h3')?.textContent === 'Week 2: Water transport');
  assert.deepEqual(await moduleTitles(), ['Week 2: Water transport', 'Week 1: Leaves']);
  // (The page moves focus in an effect after the re-render: wait for it rather than race it.)
  const downLabel = m('sc_move_down_named', { title: 'Week 2: Water transport' });
  await page
    .waitForFunction((label) => document.activeElement?.getAttribute('aria-label') === label, downLabel, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), downLabel);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.sc-module h3')?.textContent === 'Week 1: Leaves');
  assert.deepEqual(await moduleTitles(), ['Week 1: Leaves', 'Week 2: Water transport']);

  w.assertClean('reordering');
});

test('item settings: release date, prerequisite, completion; the course completion rule', { timeout: 60_000 }, async () => {
  const row = itemRow('Lecture: guard cells');
  await row.locator('details.sc-settings > summary').click();
  const form = row.locator('details.sc-settings > form').first();
  await form.getByLabel(m('sc_release_at')).fill('2027-01-11T09:00');
  await form.getByRole('button', { name: m('sc_prereq_add') }).click();
  await form.getByLabel(m('sc_prereq_item', { n: 1 }), { exact: true }).selectOption({ label: 'Stomata' });
  await form.getByLabel(m('sc_prereq_kind', { n: 1 })).selectOption({ label: m('sc_prereq_completed') });
  await form.getByRole('radio', { name: m('sc_completion_manual') }).check();
  await form.getByRole('button', { name: m('sc_save_item', { title: 'Lecture: guard cells' }) }).click();
  await row.getByText(m('sc_prerequisites_n', { n: 1 })).waitFor();
  const item = (await outline()).modules[0].items.find((i) => i.title === 'Lecture: guard cells');
  assert.deepEqual(item.prerequisites, [{ kind: 'completed', item: made.pageItem }]);
  assert.deepEqual(item.completion, { kind: 'manual' });
  assert.equal(new Date(item.release_at).toISOString(), new Date('2027-01-11T09:00:00+01:00').toISOString());
  await screenshot(page, 'teach-item-settings');
  w.assertClean('item settings');
});

/** The quiz builder's card of question `n` (1-based). */
const card = (n) => main().locator('li.sc-question').nth(n - 1);
const label = (scope, text) => scope.getByLabel(text, { exact: true });
/** A field of the page's main region by its exact label. */
const field = (text) => main().getByLabel(text, { exact: true });

/** Adds a question of `type` and fills it with `fill(card)`. */
async function addQuestion(type, prompt, fill) {
  const n = (await main().locator('li.sc-question').count()) + 1;
  await field(m('sc_quiz_add_type')).selectOption({ label: m(`sc_qt_${type}`) });
  await main().getByRole('button', { name: m('sc_quiz_add_question') }).click();
  const c = card(n);
  await label(c, m('sc_q_prompt')).fill(prompt);
  await fill?.(c);
}

test('the quiz builder: every question type, settings, preview with the exam page’s components, publish', { timeout: 180_000 }, async () => {
  await page.goto(`/teach/courses/${made.course}/assessments/new`);
  await h1(m('sc_quiz_new_title')).waitFor();
  await checkA11y(page, 'the empty quiz builder');
  await field(m('sc_quiz_title')).fill('Stomata check');

  await addQuestion('single_choice', 'Which gas do stomata let in for photosynthesis?', async (c) => {
    await label(c, m('sc_q_option_text', { n: 1 })).fill('Carbon dioxide');
    await label(c, m('sc_q_option_text', { n: 2 })).fill('Nitrogen');
    await label(c, m('sc_q_option_feedback', { n: 2 })).fill('Nitrogen is not used in photosynthesis.');
    await c.getByRole('button', { name: m('sc_q_hint_add') }).click();
    await label(c, m('sc_q_hint_n', { n: 1 })).fill('Plants turn it into sugar.');
  });
  await addQuestion('multiple_choice', 'What passes through open stomata? Choose all that apply.', async (c) => {
    await label(c, m('sc_q_option_text', { n: 1 })).fill('Water vapour');
    await label(c, m('sc_q_option_text', { n: 2 })).fill('Carbon dioxide');
    await label(c, m('sc_q_option_correct', { n: 2 })).check();
    await c.getByRole('button', { name: m('sc_q_option_add') }).click();
    await label(c, m('sc_q_option_text', { n: 3 })).fill('Sugar');
  });
  await addQuestion('true_false', 'True or false: stomata close in a drought.', async (c) => {
    await c.getByRole('radio', { name: m('sc_true') }).check();
  });
  await addQuestion('numeric', 'How many guard cells surround one stoma?', async (c) => {
    await label(c, m('sc_q_value')).fill('2');
    await label(c, m('sc_q_abs_tolerance')).fill('0');
  });
  await addQuestion('short_answer', 'What is the singular of “stomata”?', async (c) => {
    await label(c, m('sc_q_alt_pattern', { n: 1 })).fill('stoma');
    await c.getByRole('button', { name: m('sc_q_alt_add') }).click();
    await label(c, m('sc_q_alt_pattern', { n: 2 })).fill('stomate');
    await label(c, m('sc_q_alt_credit', { n: 2 })).fill('50');
  });
  await addQuestion('matching', 'Match each part of the leaf with its job.', async (c) => {
    await label(c, m('sc_q_pair_left', { n: 1 })).fill('Guard cell');
    await label(c, m('sc_q_pair_right', { n: 1 })).fill('Opens and closes the pore');
    await c.getByRole('button', { name: m('sc_q_pair_add') }).click();
    await label(c, m('sc_q_pair_left', { n: 2 })).fill('Cuticle');
    await label(c, m('sc_q_pair_right', { n: 2 })).fill('Stops water loss');
  });
  await addQuestion('ordering', 'Put the steps in order.', async (c) => {
    await label(c, m('sc_q_order_item', { n: 1 })).fill('Light reaches the leaf');
    await label(c, m('sc_q_order_item', { n: 2 })).fill('Guard cells take up water');
    await c.getByRole('button', { name: m('sc_q_order_add') }).click();
    await label(c, m('sc_q_order_item', { n: 3 })).fill('The pore opens');
  });
  await addQuestion('fill_blanks', 'Stomata open in ____ and close in ____.', async (c) => {
    await label(c.getByRole('group', { name: m('sc_q_blank_n', { n: 1 }) }), m('sc_q_alt_pattern', { n: 1 })).fill('light');
    await c.getByRole('button', { name: m('sc_q_blank_add') }).click();
    await label(c.getByRole('group', { name: m('sc_q_blank_n', { n: 2 }) }), m('sc_q_alt_pattern', { n: 1 })).fill('darkness');
  });
  await addQuestion('essay', 'Explain the trade-off a plant makes when it opens its stomata.', async (c) => {
    await label(c, m('sc_q_criterion', { n: 1 })).fill('Names carbon dioxide uptake and water loss');
    await label(c, m('sc_q_criterion_points', { n: 1 })).fill('3');
    await c.getByRole('button', { name: m('sc_q_criterion_add') }).click();
    await label(c, m('sc_q_criterion', { n: 2 })).fill('Says when closing wins (drought, night)');
    await label(c, m('sc_q_criterion_points', { n: 2 })).fill('2');
  });
  await label(card(9), m('sc_q_points')).fill('5');

  // Settings: time, window, late rule, attempts, hints, shuffling, proctoring.
  await field(m('sc_quiz_time_limit')).fill('30');
  await field(m('sc_quiz_opens')).fill('2026-01-05T09:00');
  await field(m('sc_quiz_due')).fill('2030-01-05T09:00');
  await field(m('sc_quiz_late_until')).fill('2030-01-07T09:00');
  await field(m('sc_quiz_per_late_day')).fill('10');
  await field(m('sc_quiz_attempts')).fill('2');
  await field(m('sc_quiz_grading_method')).selectOption({ label: m('sc_gm_last') });
  await field(m('sc_quiz_per_hint')).fill('20');
  await field(m('sc_quiz_shuffle_options')).check();
  await field(m('sc_quiz_proctoring_on')).check();
  await field(m('sc_proctor_action')).selectOption({ label: m('sc_proctor_flag') });
  await field(m('sc_sig_focus_lost')).fill('30');
  await audit('quiz-builder', { fullPage: true });

  await main().getByRole('button', { name: m('sc_quiz_create') }).click();
  await page.waitForURL(/\/assessments\/[^/]+\/edit$/);
  await h1(m('sc_quiz_edit_title', { title: 'Stomata check' })).waitFor();
  made.quiz = page.url().match(/\/assessments\/([^/]+)\/edit$/)[1];

  const saved = (await api('GET', `/api/v1/assessments/${made.quiz}`)).data;
  assert.equal(saved.published, false);
  assert.deepEqual(
    saved.questions.map((q) => Object.keys(q.key)[0]),
    ['single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_answer', 'matching', 'ordering', 'fill_blanks', 'essay'],
  );
  const [single, multiple, tf, numeric, short, matching, ordering, blanks, essay] = saved.questions;
  const text = (q, id) => q.labels[id];
  assert.deepEqual(single.key.single_choice.options.map((o) => [text(single, o.id), o.correct]), [['Carbon dioxide', true], ['Nitrogen', false]]);
  assert.equal(single.key.single_choice.options[1].feedback, 'Nitrogen is not used in photosynthesis.');
  assert.deepEqual(single.hints, ['Plants turn it into sugar.']);
  assert.equal(multiple.key.multiple_choice.rule, 'right_minus_wrong');
  assert.deepEqual(multiple.key.multiple_choice.options.map((o) => [text(multiple, o.id), o.correct]), [['Water vapour', true], ['Carbon dioxide', true], ['Sugar', false]]);
  assert.equal(tf.key.true_false, true);
  assert.equal(numeric.key.numeric.value, 2);
  assert.deepEqual(short.key.short_answer.alternatives.map((a) => [a.pattern, a.credit]), [['stoma', 1], ['stomate', 0.5]]);
  assert.deepEqual(matching.key.matching.map((p) => [text(matching, p.left), text(matching, p.right)]), [['Guard cell', 'Opens and closes the pore'], ['Cuticle', 'Stops water loss']]);
  assert.deepEqual(ordering.key.ordering.map((id) => text(ordering, id)), ['Light reaches the leaf', 'Guard cells take up water', 'The pore opens']);
  assert.deepEqual(blanks.key.fill_blanks.map((b) => b.alternatives[0].pattern), ['light', 'darkness']);
  assert.deepEqual(essay.key.essay.map((c) => c.points), [3, 2]);
  assert.equal(essay.points, 5);
  const s = saved.settings;
  assert.equal(s.time_limit_secs, 1800);
  assert.equal(s.attempts_allowed, 2);
  assert.equal(s.grading_method, 'last');
  assert.equal(s.per_hint, 0.2);
  assert.equal(s.per_late_day, 0.1);
  assert.equal(s.shuffle_options, true);
  assert.equal(s.proctoring.action, 'flag_for_review');
  assert.equal(s.proctoring.weights.focus_lost, 0.3);

  // "Preview as a student": a staff preview on the real exam page, graded by the real plugin for the
  // instructor alone, never in the gradebook.
  await main().getByRole('button', { name: m('sc_quiz_preview') }).click();
  await page.waitForURL(new RegExp(`/courses/${made.course}/assessments/${made.quiz}/attempts/[^/]+$`));
  await page.locator('#preview-notice').getByText(m('exam_preview_notice')).waitFor();
  assert.equal(await main().locator('section.question').count(), 9);
  const first = main().locator('section.question').first();
  await first.getByRole('radio', { name: 'Carbon dioxide' }).check();
  // The ordering question never shows its items in the key's order.
  const order = await main().locator('section.question').nth(6).locator('.order-text').allInnerTexts();
  assert.notEqual(order.join('|'), ['Light reaches the leaf', 'Guard cells take up water', 'The pore opens'].join('|'));
  assert.equal(await main().locator('section.question').nth(7).getByRole('textbox').count(), 2, 'two blanks');
  await page.locator('#save-summary', { hasText: m('exam_all_saved') }).waitFor();
  await audit('quiz-preview', { fullPage: true });
  await page.getByRole('button', { name: m('exam_submit'), exact: true }).first().click();
  const dialog = page.getByRole('dialog', { name: m('exam_submit_title') });
  await dialog.getByRole('button', { name: m('exam_submit_confirm'), exact: true }).click();
  await page.locator('#attempt-score').waitFor({ timeout: 30_000 });
  const previewId = page.url().split('/').pop();
  const result = (await api('GET', `/api/v1/assessments/${made.quiz}/attempts/${previewId}/result`)).data;
  assert.ok(result.points > 0, `the right answer scored: ${JSON.stringify(result)}`);
  assert.equal(
    (await main().locator('li.result').first().innerText()).includes('Carbon dioxide'),
    true,
    'the answer given is shown with its result',
  );
  await audit('quiz-preview-result', { fullPage: true });
  const grades = (await api('GET', `${courseApi()}/gradebook`)).data;
  assert.equal(JSON.stringify(grades).includes(previewId), false, 'a preview is nobody\'s grade');
  await main().getByRole('link', { name: m('exam_preview_back') }).click();
  await h1(m('sc_quiz_edit_title', { title: 'Stomata check' })).waitFor();

  // Publish.
  await main().getByRole('button', { name: m('sc_quiz_publish'), exact: true }).click();
  await main().locator('.badge.ok', { hasText: m('sc_state_published') }).waitFor();
  assert.equal((await api('GET', `/api/v1/assessments/${made.quiz}`)).data.published, true);
  w.assertClean('the quiz builder');
});

test('the quiz in the outline, the completion rule, the course published', { timeout: 60_000 }, async () => {
  await page.goto(`/teach/courses/${made.course}/edit`);
  await h1(m('sc_editor_title', { course: made.title })).waitFor();
  const quizzes = main().getByRole('region', { name: m('sc_quizzes_title') });
  assert.equal(
    await quizzes.getByRole('link', { name: 'Stomata check' }).getAttribute('href'),
    `/teach/courses/${made.course}/assessments/${made.quiz}/edit`,
  );
  await addItem('Week 2: Water transport', {
    kind: m('st_kind_assessment'),
    title: 'Stomata check',
    fill: (form) => form.getByLabel(m('sc_item_assessment'), { exact: true }).selectOption({ label: 'Stomata check' }),
  });
  const rule = main().getByRole('region', { name: m('sc_rule_title') });
  await rule.getByText(m('sc_rule_none')).waitFor();
  await rule.getByRole('checkbox', { name: 'Stomata check' }).check();
  await rule.getByLabel(m('sc_rule_min')).fill('60');
  await rule.getByRole('button', { name: m('sc_rule_save') }).click();
  await rule.getByText(/^Rule saved/).waitFor();
  const saved = (await api('GET', `${courseApi()}/completion-rule`)).data;
  assert.deepEqual(saved.required_items, [made.quiz]);
  assert.equal(saved.min_percent, 60);

  await main().getByRole('button', { name: m('sc_publish_course') }).click();
  await main().locator('#course-state', { hasText: m('sc_state_published') }).waitFor();
  w.assertClean('the outline and the completion rule');
});

test('enrolment: a CSV file previewed row by row, applied, its bad row reported', { timeout: 90_000 }, async () => {
  await page.goto(`/teach/courses/${made.course}/enrolment`);
  await h1(m('sc_enrol_title', { course: made.title })).waitFor();
  const people = main().getByRole('region', { name: m('sc_enrol_people') }).first();
  await people.getByRole('rowheader', { name: teacher.name }).waitFor();

  const [amelie, sam] = seed.students;
  const csv = ['email,role', `${amelie.email},student`, `${sam.email},Student`, 'nobody@northfield.test,student', ''].join('\r\n');
  await field(m('sc_csv_file')).setInputFiles({ name: 'plant-physiology.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const table = main().locator('table.sc-csv');
  await table.waitFor();
  await main().getByText(`${mp('sc_csv_rows', 3)} ${mp('sc_csv_to_apply', 2)} ${mp('sc_csv_problems', 1)}`).waitFor();
  const bad = table.locator('tr[data-line="4"]');
  assert.match(await bad.innerText(), new RegExp(m('sc_csv_unknown_person')));
  assert.match(await table.locator('tr[data-line="2"]').innerText(), new RegExp(amelie.name));
  await table.locator('tr[data-line="3"]').getByText(m('sc_csv_will_enrol')).waitFor();
  await audit('enrolment-preview', { fullPage: true });

  await main().getByRole('button', { name: mp('sc_csv_apply', 2) }).click();
  await main().getByRole('heading', { name: m('sc_csv_results', { name: 'plant-physiology.csv' }) }).waitFor();
  await main().getByText(m('sc_csv_applied', { ok: 2, failed: 1 })).waitFor();
  assert.match(await bad.innerText(), new RegExp(m('sc_csv_not_applied', { why: m('sc_csv_unknown_person') })));
  await table.locator('tr[data-line="2"]').getByText(m('sc_csv_enrolled', { role: m('sc_role_student') })).waitFor();
  await people.getByRole('rowheader', { name: amelie.name }).waitFor();
  await people.getByRole('rowheader', { name: sam.name }).waitFor();

  // One more by email, then a role change.
  const add = main().getByRole('region', { name: m('sc_enrol_add_one') });
  await add.getByLabel(m('sc_enrol_email')).fill(seed.admin.email);
  await add.getByLabel(m('sc_enrol_role')).selectOption({ label: m('sc_role_observer') });
  await add.getByRole('button', { name: m('sc_enrol_add') }).click();
  await add.getByText(m('sc_enrol_added', { name: seed.admin.name, role: m('sc_role_observer') })).waitFor();
  await people.getByLabel(m('sc_enrol_role_of', { name: sam.name })).selectOption({ label: m('sc_role_teaching_assistant') });
  await page.waitForFunction(
    (name) => [...document.querySelectorAll('table.sc-enrolled tr')].some((r) => r.textContent.includes(name) && r.querySelector('select')?.value === 'teaching_assistant'),
    sam.name,
  );
  const enrolled = (await api('GET', `${courseApi()}/enrolments?limit=500`)).data.items;
  const role = (id) => enrolled.find((e) => e.user_id === id)?.role;
  assert.equal(role(amelie.id), 'student');
  assert.equal(role(sam.id), 'teaching_assistant');
  assert.equal(role(seed.admin.id), 'observer');
  await audit('enrolment', { fullPage: true });
  w.assertClean('enrolment');
});

test('the page preview is what the student sees', { timeout: 60_000 }, async () => {
  const studentContext = await newContext(browser);
  const sp = await studentContext.newPage();
  const sw = watch(sp);
  sw.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  // The deep link first: after signing in, the app opens it.
  await sp.goto(`/courses/${made.course}/items/${made.pageItem}`);
  await signIn(sp, seed.students[0]);
  const body = sp.getByRole('main').locator('.page-body');
  await body.getByRole('heading', { name: 'Opening and closing' }).waitFor();
  assert.equal(await body.innerHTML(), made.previewHtml, 'the same HTML, sanitised the same way');
  sw.assertClean('the student’s page');
  await studentContext.close();
});

test('keyboard only: a quiz built without the mouse', { timeout: 120_000 }, async () => {
  await page.goto(`/teach/courses/${made.course}/assessments/new`);
  await h1(m('sc_quiz_new_title')).waitFor();

  /** Presses Tab until `locator` has the focus (as a keyboard user would), failing after `max`. */
  async function tabTo(locator, max = 200) {
    for (let i = 0; i < max; i++) {
      if (await locator.evaluate((el) => el === document.activeElement)) return;
      await page.keyboard.press('Tab');
    }
    assert.fail(`could not reach ${locator} with Tab`);
  }
  const focusedLabel = () => page.evaluate(() => document.activeElement?.labels?.[0]?.textContent ?? document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent);

  await tabTo(field(m('sc_quiz_title')));
  await page.keyboard.type('Keyboard quiz');

  // A single-choice question (the type already selected): Enter on "Add the question" moves focus to its text.
  await tabTo(main().getByRole('button', { name: m('sc_quiz_add_question') }));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'q1-prompt');
  await page.keyboard.type('Is a stoma a pore?');
  await tabTo(label(card(1), m('sc_q_option_text', { n: 1 })));
  await page.keyboard.type('Yes');
  await tabTo(label(card(1), m('sc_q_option_text', { n: 2 })));
  await page.keyboard.type('No');

  // A true/false question, chosen in the select with the arrow keys.
  await tabTo(field(m('sc_quiz_add_type')));
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await field(m('sc_quiz_add_type')).inputValue(), 'true_false');
  await tabTo(main().getByRole('button', { name: m('sc_quiz_add_question') }));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'q2-prompt');
  await page.keyboard.type('Stomata are found on leaves.');
  // Its answer: the radio group, moved with the arrow keys to "False" and back to "True".
  await tabTo(card(2).getByRole('radio', { name: m('sc_true') }));
  await page.keyboard.press('ArrowDown');
  assert.equal(await card(2).getByRole('radio', { name: m('sc_false') }).isChecked(), true);
  await page.keyboard.press('ArrowUp');
  assert.equal(await card(2).getByRole('radio', { name: m('sc_true') }).isChecked(), true);

  // Move question 2 up: focus follows the question to its new place.
  await tabTo(main().getByRole('button', { name: m('sc_move_up_named', { title: m('sc_question_n', { n: 2 }) }) }));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'q1-down');
  assert.equal(await label(card(1), m('sc_q_prompt')).inputValue(), 'Stomata are found on leaves.');
  assert.ok((await focusedLabel())?.includes(m('sc_move_down_named', { title: m('sc_question_n', { n: 1 }) })));

  // Proctoring on with the space bar, then save with Enter.
  await tabTo(field(m('sc_quiz_proctoring_on')));
  await page.keyboard.press('Space');
  await tabTo(field(m('sc_proctor_action')));
  await tabTo(main().getByRole('button', { name: m('sc_quiz_create') }));
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/assessments\/[^/]+\/edit$/);
  const id = page.url().match(/\/assessments\/([^/]+)\/edit$/)[1];
  const saved = (await api('GET', `/api/v1/assessments/${id}`)).data;
  assert.equal(saved.title, 'Keyboard quiz');
  assert.deepEqual(saved.questions.map((q) => Object.keys(q.key)[0]), ['true_false', 'single_choice']);
  assert.equal(saved.questions[0].key.true_false, true);
  assert.deepEqual(saved.questions[1].key.single_choice.options.map((o) => saved.questions[1].labels[o.id]), ['Yes', 'No']);
  assert.equal(saved.settings.proctoring.action, 'flag_for_review');

  // The preview by keyboard too: Enter opens the exam page, whose notice links back.
  await tabTo(main().getByRole('button', { name: m('sc_quiz_preview') }));
  await page.keyboard.press('Enter');
  await page.locator('#preview-notice').waitFor();
  await tabTo(page.locator('#preview-notice').getByRole('link', { name: m('exam_preview_back') }));
  await page.keyboard.press('Enter');
  await h1(m('sc_quiz_edit_title', { title: 'Keyboard quiz' })).waitFor();
  w.assertClean('the keyboard-only run');
});
