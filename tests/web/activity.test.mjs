// A plugin's activity in a real browser against a real server (see harness.mjs): the platform
// administrator installs the example activity plugin (plugins/examples/flashcards, built by the Rust
// test that runs this file and passed in LECTERN_FLASHCARDS_WASM); the teacher adds a flashcards item
// in the course editor, writing the deck in the form the editor builds from the kind's JSON Schema;
// a student opens it, turns cards over and answers with the keyboard until every card is mastered:
// the plugin's view is shown with nothing of its own power left (no script, style, id, URL), each
// action answers with the next view and a message announced to assistive technology, the score
// reaches the gradebook and the item completes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  apiCall,
  apiToken,
  checkA11y,
  config,
  installPlugin,
  launch,
  msg,
  screenshot,
  signedInPage,
  until,
} from './harness.mjs';

const { url, seed } = config();
const m = (key, params) => msg('en', key, params);
const WASM = process.env.LECTERN_FLASHCARDS_WASM;
const MANIFEST = new URL('../../plugins/examples/flashcards/manifest.json', import.meta.url);
const TITLE = 'Pigments: flashcards';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// `cargo xtask test` (kernel/lectern/tests/web.rs) builds the example and sets LECTERN_FLASHCARDS_WASM;
// `run.mjs` alone skips this file unless it is set (e.g. to
// target/guests/wasm32-wasip2/release/lectern_example_flashcards.wasm).
const skip = WASM ? false : 'set LECTERN_FLASHCARDS_WASM to the built example (kernel/lectern/tests/web.rs does)';

test('an activity: built in the editor from its schema, used by a student, scored and completed', { timeout: 240_000, skip }, async () => {
  await installPlugin(url, seed, { manifest: MANIFEST, wasm: WASM, slot: 'activity' });
  const module = seed.course.modules[1];

  // ---- The teacher adds the deck in the course editor. ----
  const { context: tctx, page: tp, w: tw } = await signedInPage(browser, seed.teacher);
  await tp.goto(`/teach/courses/${seed.course.id}/edit`);
  const block = tp.locator('li.sc-module', { has: tp.getByRole('heading', { level: 3, name: module.title, exact: true }) });
  const form = block.locator('details.sc-add');
  await form.locator('summary').click();
  await form.getByLabel(m('sc_item_kind'), { exact: true }).selectOption({ label: m('st_kind_activity') });
  await form.getByLabel(m('sc_item_title'), { exact: true }).fill(TITLE);
  const kinds = form.getByLabel(m('sc_item_activity_kind'), { exact: true });
  assert.equal(
    await kinds.locator('option:checked').innerText(),
    m('sc_activity_of', { name: 'Flashcards', plugin: 'org.example.flashcards' }),
  );
  // The schema asks for at least one card: the form starts with one, and another is added.
  const settings = form.getByRole('group', { name: m('sc_activity_settings', { kind: 'Flashcards' }) });
  const card = (n) => settings.getByRole('group', { name: m('sc_activity_entry', { n }), exact: true });
  await card(1).getByLabel('Front', { exact: true }).fill('Chlorophyll');
  await card(1).getByLabel('Back', { exact: true }).fill('The green pigment that absorbs light');
  await settings.getByRole('button', { name: m('sc_activity_add_entry', { name: 'Cards' }) }).click();
  await card(2).getByLabel('Front', { exact: true }).fill('Carotenoid');
  await card(2).getByLabel('Back', { exact: true }).fill('An orange pigment that protects the leaf');
  await settings.getByLabel('Mastery box', { exact: true }).fill('2');
  await checkA11y(tp, 'the course editor adding an activity');
  await screenshot(tp, 'teach-add-activity', { fullPage: true });
  await form.getByRole('button', { name: m('sc_add_item') }).click();
  const row = tp.locator('li.sc-item', { has: tp.locator('.sc-item-title', { hasText: TITLE }) });
  await row.waitFor();
  await row.locator('.sc-item-facts').getByText(m('sc_completion_reported')).waitFor();
  const teacher = await apiToken(url, seed.teacher);
  const outline = await apiCall(url, teacher, 'GET', `${seed.course.api}/content/outline`);
  const item = outline.modules.flatMap((x) => x.items).find((i) => i.title === TITLE);
  assert.deepEqual(item.body.settings, {
    cards: [
      { front: 'Chlorophyll', back: 'The green pigment that absorbs light' },
      { front: 'Carotenoid', back: 'An orange pigment that protects the leaf' },
    ],
    mastery_box: 2,
  });
  tw.assertClean();
  await tctx.close();

  // ---- A student uses it, with the keyboard. ----
  const student = seed.students[1];
  const { context, page, w } = await signedInPage(browser, student);
  await page.goto(`/courses/${seed.course.id}/items/${item.id}`);
  await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
  const activity = page.getByRole('region', { name: m('st_activity_label', { title: TITLE }) });
  const box = activity.locator('.plugin-box');
  await box.getByText('Chlorophyll').waitFor();
  await page.getByText(m('st_reported_hint')).waitFor();
  const leftovers = await box.evaluate((el) => ({
    banned: el.querySelectorAll('script, style, iframe, a, form[action]').length,
    // The deck icon is a package asset; installed without its package, the image has no source.
    images: Array.from(el.querySelectorAll('img')).map((i) => [i.getAttribute('src'), i.getAttribute('alt')]),
    attrs: Array.from(el.querySelectorAll('*')).flatMap((n) =>
      Array.from(n.attributes)
        .map((a) => a.name)
        .filter((a) => a === 'id' || a === 'style' || a.startsWith('on') || a === 'href' || a === 'src'),
    ),
    buttons: Array.from(el.querySelectorAll('button')).map((b) => b.type),
  }));
  assert.deepEqual(leftovers, { banned: 0, images: [[null, '']], attrs: [], buttons: ['button'] });
  await checkA11y(page, 'an activity on the item page');

  // Each card: turn it over (Enter on the focused button), then "I knew it".
  const seen = new Set();
  for (let turn = 0; turn < 6 && !(await page.getByText(m('st_item_done')).isVisible()); turn++) {
    const front = await box.locator('.pv-front').innerText();
    seen.add(front);
    await box.getByRole('button', { name: 'Show the answer' }).focus();
    await page.keyboard.press('Enter');
    await box.locator('.pv-back').waitFor();
    // Focus stays in the activity after its view is replaced.
    assert.ok(await box.evaluate((el) => el.contains(document.activeElement)), 'focus is in the new view');
    await box.getByRole('button', { name: 'I knew it' }).click();
    await activity.locator('.activity-message').filter({ hasText: 'Score recorded' }).waitFor();
  }
  assert.deepEqual([...seen].sort(), ['Carotenoid', 'Chlorophyll'], 'both cards came up');
  await activity.getByText(/Every card mastered/).waitFor();
  await page.getByText(m('st_item_done')).waitFor();
  await screenshot(page, 'activity-complete', { fullPage: true });

  // The score reached the gradebook under the item's id, and the outline shows it done.
  const grade = await until('the activity score in the gradebook', async () => {
    const g = await apiCall(url, teacher, 'GET', `${seed.course.api}/students/${student.id}/grades`);
    return g.items.find((x) => x.item === item.id && x.points === 2);
  });
  assert.equal(grade.max_points, 2);
  const mine = await apiCall(url, await apiToken(url, student), 'GET', `${seed.course.api}/content`);
  assert.equal(mine.modules.flatMap((x) => x.items).find((i) => i.id === item.id).completed, true);
  w.assertClean();
  await context.close();
});
