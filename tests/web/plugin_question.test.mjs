// A plugin's question type on the exam page, in a real browser against a real server (see
// harness.mjs): the platform administrator installs the example question-type plugin
// (plugins/examples/formula-question, built by the Rust test that runs this file and passed in
// LECTERN_FORMULA_WASM); the teacher writes one in the quiz builder (the form its settings schema
// describes, a map of variables as JSON in place) and the server keeps exactly that; then a formula
// question next to a built-in one in an assessment made through the API, which a student takes
// on the exam page: the plugin's view is shown
// with this attempt's values, inside the question's card, with no script, style, id or URL left in
// it; the answer typed into the view's own field is saved as `fields`; a refused answer shows the
// plugin's message; the graded result is the plugin's.
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
const WASM = process.env.LECTERN_FORMULA_WASM;
const MANIFEST = new URL('../../plugins/examples/formula-question/manifest.json', import.meta.url);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const token = (person) => apiToken(url, person);
const call = (bearer, method, path, body) => apiCall(url, bearer, method, path, body);

/** Installs and activates the example question type as the platform administrator. */
async function installFormula() {
  assert.ok(WASM, 'LECTERN_FORMULA_WASM names the built example component');
  await installPlugin(url, seed, { manifest: MANIFEST, wasm: WASM, slot: 'question_type' });
}

const SPEED = {
  prompt: 'A cyclist rides {d} km in {t} h. What is the mean speed?',
  formula: 'd / t',
  variables: { d: { min: 20, max: 90, step: 5 }, t: { min: 1, max: 3, step: 0.5 } },
  unit: 'km/h',
};

// `cargo xtask test` (kernel/lectern/tests/web.rs) builds the example and sets LECTERN_FORMULA_WASM;
// `run.mjs` alone skips this file unless it is set (e.g. to
// target/guests/wasm32-wasip2/release/lectern_example_formula_question.wasm).
const skip = WASM ? false : 'set LECTERN_FORMULA_WASM to the built example (kernel/lectern/tests/web.rs does)';

test('a plugin question type on the exam page: its view, its field, its message, its grade', { timeout: 180_000, skip }, async () => {
  await installFormula();
  const teacher = await token(seed.teacher);
  const types = await call(teacher, 'GET', `/api/v1/institutions/${seed.institution.slug}/question-types`);
  assert.deepEqual(types.items.map((t) => `${t.plugin}/${t.type}`), ['org.example.formula/formula']);

  // ---- The quiz builder: the type is offered, its settings are a form from its schema. ----
  const { context: tctx, page: tp, w: tw } = await signedInPage(browser, seed.teacher);
  await tp.goto(`/teach/courses/${seed.course.id}/assessments/new`);
  const tmain = tp.getByRole('main');
  await tmain.getByLabel(m('sc_quiz_title'), { exact: true }).fill('Cycling speeds');
  await tmain.getByLabel(m('sc_quiz_add_type'), { exact: true }).selectOption({ label: 'Formula with random values' });
  await tmain.getByRole('button', { name: m('sc_quiz_add_question') }).click();
  const q1 = tmain.locator('li.sc-question').first();
  await q1.locator('.badge', { hasText: 'Formula with random values' }).waitFor();
  const form = q1.getByRole('group', { name: m('sc_q_plugin_settings', { type: 'Formula with random values' }) });
  await form.getByLabel('Prompt', { exact: true }).fill(SPEED.prompt);
  await form.getByLabel('Formula', { exact: true }).fill(SPEED.formula);
  await form.getByLabel(m('sc_activity_json_named', { name: 'Variables' })).fill(JSON.stringify(SPEED.variables));
  await checkA11y(tp, 'the quiz builder with a plugin question');
  await tmain.getByRole('button', { name: m('sc_quiz_create') }).click();
  await tp.waitForURL(/\/assessments\/[^/]+\/edit$/);
  const built = tp.url().match(/\/assessments\/([^/]+)\/edit$/)[1];
  const authored = await call(teacher, 'GET', `/api/v1/assessments/${built}`);
  assert.deepEqual(authored.questions[0].key, {
    plugin: { plugin: 'org.example.formula', type: 'formula', settings: { prompt: SPEED.prompt, formula: SPEED.formula, variables: SPEED.variables } },
  });
  tw.assertClean();
  await tctx.close();
  const assessment = await call(teacher, 'POST', `${seed.course.api}/assessments`, {
    title: 'Kinematics check',
    questions: [
      { id: 'speed', prompt: '', points: 4, key: { plugin: { plugin: 'org.example.formula', type: 'formula', settings: SPEED } } },
      { id: 'vector', prompt: 'Speed is a vector.', points: 1, key: { true_false: false } },
    ],
    settings: { attempts_allowed: 1 },
  });
  await call(teacher, 'PATCH', `/api/v1/assessments/${assessment.id}`, { published: true });

  const student = seed.students[1];
  const studentToken = await token(student);
  const { context, page, w } = await signedInPage(browser, student);
  // The refused save below answers 422 on purpose, once.
  w.expect({ status: 422, url: /\/answers\/speed$/, method: 'PUT' });
  await page.goto(`/courses/${seed.course.id}/assessments/${assessment.id}`);
  await page.getByRole('heading', { level: 1, name: assessment.title }).waitFor();
  await page.getByRole('button', { name: m('exam_start'), exact: true }).click();
  await page.waitForURL(new RegExp(`/assessments/${assessment.id}/attempts/([^/?#]+)$`));
  const attemptId = new URL(page.url()).pathname.split('/').pop();
  const attemptApi = `/api/v1/assessments/${assessment.id}/attempts/${attemptId}`;

  // The plugin's view, with this attempt's values, inside the question's card.
  const card = page.locator('section[data-question="speed"]');
  const box = card.locator('.plugin-box');
  await box.waitFor();
  assert.equal(await box.getAttribute('data-plugin'), 'org.example.formula/formula');
  const prompt = await box.locator('.pv-prompt').innerText();
  const [, d, t] = /rides (\d+(?:\.\d+)?) km in (\d+(?:\.\d+)?) h/.exec(prompt) ?? [];
  assert.ok(d && t, `the drawn values are in the prompt: ${prompt}`);
  const expected = Number(d) / Number(t);
  // Nothing but text and form fields: no script, style, id, URL or form target got through.
  const leftovers = await box.evaluate((el) => ({
    scripts: el.querySelectorAll('script, style, iframe, img, a').length,
    attrs: Array.from(el.querySelectorAll('*')).flatMap((n) =>
      Array.from(n.attributes).map((a) => a.name).filter((a) => a === 'id' || a === 'style' || a.startsWith('on') || a === 'href' || a === 'src' || a === 'action'),
    ),
  }));
  assert.deepEqual(leftovers, { scripts: 0, attrs: [] });
  await checkA11y(page, 'the exam page with a plugin question');
  await screenshot(page, 'exam-plugin-question', { fullPage: true });

  // A refused answer shows the plugin's message and saves nothing; a number is saved as `fields`.
  const field = box.getByLabel(/Your answer/);
  await field.fill('fast');
  await card.locator('.save-state[data-state="failed"]').waitFor();
  await card.getByText(/Enter a number/).waitFor();
  let saved = await call(studentToken, 'GET', attemptApi);
  assert.equal(saved.answers.speed, undefined, 'nothing saved for a refused answer');
  const answer = String(Math.round(expected * 100) / 100);
  await field.fill(answer);
  await card.locator('.save-state[data-state="saved"]').waitFor();
  saved = await call(studentToken, 'GET', attemptApi);
  assert.deepEqual(saved.answers.speed.response, { fields: { value: answer } });

  // After a reload the view shows the same values and the saved answer in its field.
  await page.reload();
  await box.waitFor();
  assert.equal(await box.locator('.pv-prompt').innerText(), prompt);
  assert.equal(await box.getByLabel(/Your answer/).inputValue(), answer);

  // Graded by the plugin through the bus.
  await call(studentToken, 'POST', `${attemptApi}/submit`);
  const result = await until('the result', async () => {
    const r = await fetch(`${url}${attemptApi}/result`, { headers: { authorization: `Bearer ${studentToken}` } });
    return r.status === 200 ? r.json() : null;
  });
  const speed = result.questions.find((q) => q.question_id === 'speed');
  assert.equal(speed.points, 4, JSON.stringify(result));
  assert.ok(speed.explanation.some((l) => l.includes('full credit')), JSON.stringify(speed));
  w.assertClean();
  await context.close();
});
