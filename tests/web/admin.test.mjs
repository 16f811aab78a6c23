// The administrators' consoles in a real browser against a real server (see harness.mjs and
// seed.mjs):
//
// - people: the institution administrator adds a person, imports a CSV file whose preview
//   reports a bad row found by the page and one the server's dry run refuses (a weak password),
//   imports the rest with one request, and deactivates someone, who is signed out at once;
// - courses and OAuth: a course created and archived, a confidential client registered (its
//   secret shown once) and revoked, the signing key rotated;
// - the plugin console (platform administrator): every slot with what serves it, the circuit
//   breakers, live statistics that change without a reload, an institution given its own grading
//   version and sent back to the platform default, each through its confirmation dialog;
// - the same console used with the keyboard only;
// - operations: bus topics, two dead letters made through the API, one replayed and one
//   discarded, a webhook registered with its secret and delivery log;
// - the audit log: a refused sign-in found, the list filtered to sign-ins, the export
//   downloaded, the chain verified by the platform administrator;
// - a student sees no administration page, and the API refuses the same calls.
//
// Rolling back between two versions of one plugin needs a second installed version, which a
// server with only the built-in plugins does not have: admin_marketplace.test.mjs installs one
// from a local marketplace and rolls back from the console.
//
// axe runs on every page and dialog; screenshots at desktop and phone size. Every failed request
// and console error fails the test unless declared.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, config, launch, msg, newContext, screenshot, signIn, until, watch } from './harness.mjs';

const { url, seed } = config();
const m = (key, params) => msg('en', key, params);
const inst = seed.institution.slug;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// ---- The API, to check what reached the server (the test's own client, not the page's) ----

async function login(person) {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: person.institution, email: person.email, password: person.password }),
  });
  return { status: r.status, token: r.ok ? (await r.json()).access_token : undefined };
}

async function token(person) {
  const r = await login(person);
  assert.equal(r.status, 200, `login as ${person.email}`);
  return r.token;
}

async function apiCall(bearer, method, path, body) {
  const headers = { authorization: `Bearer ${bearer}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function apiGet(bearer, path) {
  const r = await apiCall(bearer, 'GET', path);
  assert.equal(r.status, 200, `GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function allUsers(bearer) {
  return (await apiGet(bearer, `/api/v1/institutions/${inst}/users?limit=500`)).items;
}

// ---- The pages ----

/** A signed-in page of `person`, on `path`, with its watcher. */
async function open(person, path, options = {}, allowed = []) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  for (const a of allowed) w.allow(a);
  await page.goto('/');
  await signIn(page, person);
  await page.waitForLoadState('networkidle');
  if (path !== '/') {
    await page.goto(path);
    await page.getByRole('heading', { level: 1 }).waitFor();
  }
  return { context, page, w };
}

const dialog = (page, title) => page.getByRole('dialog', { name: title });

/** Waits for a status message with exactly this text (the outcome of an action). */
async function status(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

test('people: add a person, import a CSV file with a bad row, deactivate someone', { timeout: 180_000 }, async () => {
  const admin = await token(seed.admin);
  const { context, page, w } = await open(seed.admin, '/');

  // The header's link leads to the index of the consoles this role may use.
  await page.getByRole('link', { name: m('nav_admin'), exact: true }).click();
  await page.getByRole('heading', { level: 1, name: m('ad_index_title') }).waitFor();
  for (const title of ['ad_people_title', 'ad_courses_title', 'ad_oauth_title', 'ad_plugins_title', 'ad_ops_title']) {
    await page.getByRole('main').getByRole('heading', { level: 2, name: m(title) }).waitFor();
  }
  await checkA11y(page, 'the administration index');
  await screenshot(page, 'admin-index');

  await page.getByRole('navigation', { name: m('ad_nav_label') }).getByRole('link', { name: m('ad_people_title') }).click();
  await page.getByRole('heading', { level: 1, name: m('ad_people_title') }).waitFor();
  await page.getByRole('table').filter({ hasText: seed.teacher.email }).waitFor();

  // One person, with a password, so that deactivating them can be checked by signing in.
  const ada = { institution: inst, email: 'ada.byron@northfield.test', name: 'Ada Byron', password: 'analytical engine 1843' };
  const form = page.getByRole('region', { name: m('ad_user_create_title') });
  await form.getByLabel(m('ad_user_name'), { exact: true }).fill(ada.name);
  await form.getByLabel(m('ad_user_email'), { exact: true }).fill(ada.email);
  await form.getByRole('combobox', { name: m('ad_user_role') }).selectOption('staff');
  await form.getByLabel(m('ad_user_password'), { exact: true }).fill(ada.password);
  await form.getByRole('button', { name: m('ad_user_create') }).click();
  await status(page, m('ad_user_created', { name: ada.name, email: ada.email }));
  const created = (await allUsers(admin)).find((u) => u.email === ada.email);
  assert.equal(created?.role, 'staff', 'the person reached the server with their role');

  // The CSV: two good rows, one with a malformed email (caught by the page), and one whose
  // password the server's dry run refuses: both are reported in the preview, before anything
  // is created.
  const csv = [
    'email,name,role,password',
    'grace.hopper@northfield.test,Grace Hopper,staff,',
    'alan.kay@northfield.test,"Kay, Alan",,',
    'not-an-email,Bad Row,member,',
    'short.password@northfield.test,Short Password,member,short',
  ].join('\r\n');
  const dryRun = page.waitForRequest((r) => r.url().endsWith(`/institutions/${inst}/users/import`) && r.postDataJSON()?.dry_run === true);
  const importer = page.getByRole('region', { name: m('ad_import_title') });
  await importer.getByLabel(m('ad_import_file')).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const preview = importer.getByRole('region', { name: m('ad_import_preview', { file: 'people.csv' }) });
  await preview.waitFor();
  assert.equal((await dryRun).postDataJSON().rows.length, 3, 'the rows the page accepted went to the dry run');
  await importer.getByText(m('ad_import_valid_other', { n: 2 })).waitFor();
  await preview.locator('tr[data-line="4"]').getByText(m('ad_import_bad_email'), { exact: true }).waitFor();
  await preview.locator('tr[data-line="5"]').getByText('password must be at least 8 characters').waitFor();
  assert.equal(await preview.locator('tbody tr').count(), 4);
  assert.equal(await preview.getByText(m('ad_import_ok'), { exact: true }).count(), 2);
  assert.ok(!(await allUsers(admin)).some((u) => u.email === 'grace.hopper@northfield.test'), 'the preview created nobody');
  await checkA11y(page, 'the import preview');
  await importer.getByRole('button', { name: m('ad_import_apply_other', { n: 2 }) }).click();
  await status(page, m('ad_import_summary', { created: 2, failed: 0, skipped: 2 }));
  await preview.locator('tr[data-line="2"]').getByText(m('ad_import_created'), { exact: true }).waitFor();
  const users = await allUsers(admin);
  assert.ok(users.some((u) => u.email === 'grace.hopper@northfield.test' && u.role === 'staff'));
  assert.ok(users.some((u) => u.email === 'alan.kay@northfield.test' && u.name === 'Kay, Alan' && u.role === 'member'));
  assert.ok(!users.some((u) => u.email === 'short.password@northfield.test' || u.email === 'not-an-email'));
  await screenshot(page, 'admin-people', { fullPage: true });

  // Sign Ada out everywhere: her token stops working, her account does not.
  const row = page.locator(`tr[data-email="${ada.email}"]`);
  const before = await token(ada);
  await row.getByRole('button', { name: `${m('ad_user_sign_out')} ${ada.name}` }).click();
  const so = dialog(page, m('ad_user_sign_out_title', { name: ada.name }));
  await so.getByText(m('ad_user_sign_out_effect', { name: ada.name, email: ada.email })).waitFor();
  await so.getByRole('button', { name: m('ad_user_sign_out'), exact: true }).click();
  await page.getByText(new RegExp(`^${ada.name} .*`)).filter({ hasText: /1|2|3/ }).first().waitFor();
  assert.equal((await apiCall(before, 'GET', '/api/v1/me')).status, 401, 'her token stopped working');
  await row.getByText(m('ad_user_active'), { exact: true }).waitFor();

  // Deactivate Ada: the dialog says what happens; she is signed out everywhere at once.
  const adaSession = await token(ada);
  await row.getByRole('button', { name: `${m('ad_user_deactivate')} ${ada.name}` }).click();
  const d = dialog(page, m('ad_user_deactivate_title', { name: ada.name }));
  await d.waitFor();
  await d.getByText(m('ad_user_deactivate_effect', { name: ada.name, email: ada.email })).waitFor();
  await checkA11y(page, 'the deactivation dialog');
  await d.getByRole('button', { name: m('ad_user_deactivate'), exact: true }).click();
  await status(page, m('ad_user_deactivated', { name: ada.name }));
  await row.getByText(m('ad_user_inactive'), { exact: true }).waitFor();
  assert.equal((await apiCall(adaSession, 'GET', '/api/v1/me')).status, 401, 'her token stopped working');
  assert.equal((await login(ada)).status, 401, 'she cannot sign in');

  // Her data, exported through the link (the page's own session), then erased: the
  // button waits for her address to be typed, and her row becomes an anonymous one.
  const link = row.getByRole('link', { name: `${m('ad_user_export')} ${ada.name}` });
  const exported = await page.request.get(await link.getAttribute('href'));
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()['content-disposition'] ?? '', /attachment; filename="lectern-person-/);
  const doc = await exported.json();
  assert.equal(doc.format, 'lectern-person-export/1');
  assert.equal(doc.person.account.email, ada.email);
  await row.getByRole('button', { name: `${m('ad_user_erase')} ${ada.name}` }).click();
  const e = dialog(page, m('ad_user_erase_title', { name: ada.name }));
  await e.getByText(m('ad_user_erase_effect', { name: ada.name, email: ada.email })).waitFor();
  const erase = e.getByRole('button', { name: m('ad_user_erase'), exact: true });
  assert.ok(await erase.isDisabled(), 'nothing is erased before the address is typed');
  await e.getByLabel(m('ad_user_erase_confirm', { email: ada.email })).fill(ada.email.toUpperCase());
  await checkA11y(page, 'the erasure dialog');
  await erase.click();
  await status(page, m('ad_user_erased', { name: ada.name }));
  await page.locator('tr', { hasText: 'Erased person' }).first().waitFor();
  assert.equal(await page.locator(`tr[data-email="${ada.email}"]`).count(), 0, 'her address is gone from the list');
  w.assertClean('the people console');
  await context.close();
});

test('courses and OAuth: create and archive a course, register and revoke a client, rotate the key', { timeout: 120_000 }, async () => {
  const admin = await token(seed.admin);
  const { context, page, w } = await open(seed.admin, '/admin/courses');
  await page.getByRole('table').filter({ hasText: seed.course.code ?? 'BIO-110' }).waitFor();
  const form = page.getByRole('region', { name: m('ad_course_create_title') });
  await form.getByLabel(m('ad_course_code'), { exact: true }).fill('GEO-201');
  await form.getByLabel(m('ad_course_title'), { exact: true }).fill('Rocks and Minerals');
  await form.getByRole('button', { name: m('ad_course_create') }).click();
  await status(page, m('ad_course_created', { title: 'Rocks and Minerals', code: 'GEO-201' }));
  const row = page.locator('tr[data-code="GEO-201"]');
  await row.getByText(m('ad_course_draft'), { exact: true }).waitFor();
  await checkA11y(page, 'the courses console');
  await screenshot(page, 'admin-courses');
  await row.getByRole('button', { name: `${m('ad_course_archive')} Rocks and Minerals` }).click();
  const d = dialog(page, m('ad_course_archive_title', { title: 'Rocks and Minerals' }));
  await d.getByRole('button', { name: m('ad_course_archive'), exact: true }).click();
  await status(page, m('ad_course_archived_done', { title: 'Rocks and Minerals' }));
  await row.getByText(m('ad_course_archived'), { exact: true }).waitFor();
  const courses = (await apiGet(admin, `/api/v1/institutions/${inst}/courses?limit=500`)).items;
  assert.equal(courses.find((c) => c.code === 'GEO-201')?.state, 'archived');

  // OAuth: a confidential client; its secret is shown once, here.
  await page.getByRole('navigation', { name: m('ad_nav_label') }).getByRole('link', { name: m('ad_oauth_title') }).click();
  await page.getByRole('heading', { level: 1, name: m('ad_oauth_title') }).waitFor();
  const client = page.getByRole('region', { name: m('ad_client_create_title') });
  await client.getByLabel(m('ad_client_name'), { exact: true }).fill('Library portal');
  await client.getByLabel(m('ad_client_redirects')).fill('https://library.example.edu/callback');
  await client.getByRole('button', { name: m('ad_client_create') }).click();
  const secretBox = page.getByRole('region', { name: m('ad_client_created', { name: 'Library portal' }) });
  const secret = await secretBox.locator('[data-secret]').innerText();
  assert.ok(secret.length > 20, `a secret: ${secret}`);
  const clients = await apiGet(admin, `/api/v1/institutions/${inst}/oauth-clients`);
  const made = clients.find((c) => c.name === 'Library portal');
  assert.ok(made?.confidential && !made.client_secret, 'registered, and the list never carries the secret');
  await checkA11y(page, 'the OAuth console with a new secret');
  await screenshot(page, 'admin-oauth');
  await secretBox.getByRole('button', { name: m('ad_secret_stored') }).click();
  await page.locator(`tr[data-client="${made.client_id}"]`).getByRole('button', { name: `${m('ad_client_revoke')} Library portal` }).click();
  await dialog(page, m('ad_client_revoke_title', { name: 'Library portal' })).getByRole('button', { name: m('ad_client_revoke'), exact: true }).click();
  await status(page, m('ad_client_revoked', { name: 'Library portal' }));
  assert.ok(!(await apiGet(admin, `/api/v1/institutions/${inst}/oauth-clients`)).some((c) => c.client_id === made.client_id));

  // The signing key: rotated, and the new key is published.
  await page.getByRole('button', { name: m('ad_keys_rotate') }).click();
  await dialog(page, m('ad_keys_rotate_title', { institution: seed.institution.name })).getByRole('button', { name: m('ad_keys_rotate') }).click();
  const [prefix, suffix] = m('ad_keys_rotated', { kid: '\u0000' }).split('\u0000');
  const rotated = page.getByRole('status').filter({ hasText: prefix });
  const text = await rotated.innerText();
  const kid = text.slice(text.indexOf(prefix) + prefix.length, text.length - suffix.length);
  const jwks = await (await fetch(`${url}/.well-known/jwks.json`)).json();
  assert.ok(jwks.keys.some((k) => k.kid === kid), `the new key ${kid} is published`);
  // The key list: the new key signs, the one it replaced verifies until its tokens expire.
  const keyTable = page.getByRole('region', { name: m('ad_keys_title') }).locator('table');
  await keyTable.locator('tr', { hasText: kid }).getByText(m('ad_keys_active')).waitFor();
  const listed = (await apiGet(admin, `/api/v1/institutions/${inst}/keys`)).items;
  assert.equal(listed[0].kid, kid);
  assert.equal(listed[1].state, 'retiring');
  assert.equal(await keyTable.locator('tbody tr').count(), listed.length);
  w.assertClean('the courses and OAuth consoles');
  await context.close();
});

/** The row of an installed version in its slot, and its statistics cell. */
const versionRow = (page, slot, key) => page.locator(`section[data-slot="${slot}"] tr[data-plugin="${key}"]`);
/** A row of a slot's "what serves it" table: `default` (the platform default) or an institution's slug. */
const servingRow = (page, slot, scope) => page.locator(`section[data-slot="${slot}"] tr[data-scope="${scope}"]`);

test('the plugin console: slots, breakers, live statistics, an institution’s own choice and back', { timeout: 180_000 }, async () => {
  const root = await token(seed.platformAdmin);
  const student = await token(seed.students[0]);
  const plugins = await apiGet(root, '/api/v1/plugins');
  const active = (slot) => plugins.find((p) => p.slot === slot && p.active_in.includes('platform'));
  const context = await newContext(browser);
  const page = await context.newPage();
  const w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  // No marketplace on this server: the catalogue answers 409 marketplace-not-configured.
  w.expect({ status: 409, url: '/api/v1/marketplace/plugins', method: 'GET' });
  await page.goto('/');
  await signIn(page, seed.platformAdmin);
  await page.waitForLoadState('networkidle');
  await page.goto('/admin/plugins');

  for (const slot of ['content', 'grading', 'proctoring', 'tutoring']) {
    const p = active(slot);
    assert.ok(p, `something serves ${slot}`);
    await servingRow(page, slot, 'default').getByText(p.key, { exact: true }).waitFor();
    const row = versionRow(page, slot, p.key);
    await row.getByText(m('ad_status_active'), { exact: true }).waitFor();
    assert.equal(await row.locator('.ad-breaker').getAttribute('data-state'), p.breaker.state);
    await row.locator('.ad-breaker').getByText(m(p.breaker.state === 'closed' ? 'ad_breaker_closed' : 'ad_breaker_open'), { exact: true }).waitFor();
  }
  // Northfield follows the platform default.
  await servingRow(page, 'grading', inst).getByText(m('ad_follows_default'), { exact: true }).waitFor();
  await checkA11y(page, 'the plugin console');
  await screenshot(page, 'admin-plugins', { fullPage: true });

  // Live statistics: the content plugin answers a visibility question on every student read;
  // the page shows the new count without being reloaded.
  const content = active('content').key;
  const calls = versionRow(page, 'content', content).locator('[data-stat="calls"]');
  const number = async () => Number((await calls.innerText()).split('\n')[0].replace(/[^\d]/g, ''));
  const before = await number();
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  for (let i = 0; i < 3; i++) {
    await apiGet(student, `/api/v1/institutions/${inst}/courses/${seed.course.id}/content`);
  }
  await until('the calls to reach the page', async () => (await number()) > before, 20);
  assert.ok(await page.evaluate(() => window.__sameDocument === true), 'refreshed without a reload');

  // Pausing stops the readings (WCAG 2.2.2); resuming starts them again.
  const pause = page.getByRole('button', { name: m('ad_refresh_pause') });
  await pause.click();
  await page.getByRole('button', { name: m('ad_refresh_resume') }).waitFor();
  await page.waitForTimeout(1000); // a reading already on its way may still land
  const stamp = await page.locator('[data-updated]').getAttribute('data-updated');
  await page.waitForTimeout(4000);
  assert.equal(await page.locator('[data-updated]').getAttribute('data-updated'), stamp, 'no reading while paused');
  await page.getByRole('button', { name: m('ad_refresh_resume') }).click();

  // Northfield gets its own grading version: the dialog says exactly where and for whom.
  const grading = active('grading').key;
  await versionRow(page, 'grading', grading).getByRole('button', { name: `${m('ad_activate')} ${grading}` }).click();
  const d = dialog(page, m('ad_activate_title', { plugin: grading }));
  await d.getByRole('radio', { name: new RegExp(seed.institution.name) }).check();
  await d.getByText(m('ad_whom_institution', { institution: seed.institution.name })).waitFor();
  await checkA11y(page, 'the activation dialog');
  await screenshot(page, 'admin-plugins-activate');
  await d.getByRole('button', { name: m('ad_activate'), exact: true }).click();
  await status(page, new RegExp(`^${grading} .*${seed.institution.name}`));
  await servingRow(page, 'grading', inst).getByText(m('ad_own_choice'), { exact: true }).waitFor();
  const chosen = (await apiGet(root, '/api/v1/plugins')).find((p) => p.key === grading);
  assert.ok(chosen.active_in.includes(seed.institution.id), `northfield chose it: ${JSON.stringify(chosen.active_in)}`);

  // Back to the platform default.
  await servingRow(page, 'grading', inst).getByRole('button', { name: new RegExp(`^${m('ad_use_default')}`) }).click();
  const back = dialog(page, m('ad_default_title', { slot: m('ad_slot_grading'), scope: seed.institution.name }));
  await back.getByText(m('ad_whom_institution', { institution: seed.institution.name })).waitFor();
  await back.getByRole('button', { name: m('ad_use_default'), exact: true }).click();
  await status(page, m('ad_default_restored', { scope: seed.institution.name, plugin: grading }));
  await servingRow(page, 'grading', inst).getByText(m('ad_follows_default'), { exact: true }).waitFor();
  const restored = (await apiGet(root, '/api/v1/plugins')).find((p) => p.key === grading);
  assert.deepEqual(restored.active_in, ['platform']);

  // Without a marketplace the catalogue says so, rather than failing.
  await page.getByText(m('ad_market_not_configured')).waitFor();
  w.assertClean('the plugin console');
  await context.close();
});

/** Presses Tab until the focused element satisfies `want` (its text, role and name), at most `max` times. */
async function tabTo(page, want, max = 300, key = 'Tab') {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return { tag: el?.tagName ?? '', text: (el?.textContent ?? '').trim(), type: el?.getAttribute('type') ?? '', value: el?.getAttribute('value') ?? '' };
    });
    if (want(focused)) return focused;
  }
  throw new Error('the element was not reached with Tab');
}

/** The focused element shows a focus ring (WCAG 2.4.7). */
async function assertFocusVisible(page) {
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focus is visible');
}

test('the plugin console with the keyboard only', { timeout: 180_000 }, async () => {
  const root = await token(seed.platformAdmin);
  const grading = (await apiGet(root, '/api/v1/plugins')).find((p) => p.slot === 'grading' && p.active_in.includes('platform')).key;
  const { context, page, w } = await open(seed.platformAdmin, '/admin/plugins', {}, [{ status: 409, url: '/api/v1/marketplace/plugins', method: 'GET' }]);
  await versionRow(page, 'grading', grading).waitFor();
  // Start from the top of the page, as a keyboard user arriving here would.
  await page.locator('#page-title').focus();

  // Pause the updates (Space on a toggle button).
  await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === m('ad_refresh_pause'));
  await assertFocusVisible(page);
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: m('ad_refresh_resume') }).waitFor();
  assert.equal(await page.getByRole('button', { name: m('ad_refresh_resume') }).getAttribute('aria-pressed'), 'true');

  // The skip list of slots: Enter on "Grading" moves to its section.
  await tabTo(page, (f) => f.tag === 'A' && f.text === m('ad_slot_grading'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#slot-grading');

  // Activate the grading version for Northfield: Enter opens the dialog, the focus starts on
  // Cancel, the arrow keys choose where, Tab reaches the confirmation.
  await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === `${m('ad_activate')} ${grading}`);
  await assertFocusVisible(page);
  await page.keyboard.press('Enter');
  const d = dialog(page, m('ad_activate_title', { plugin: grading }));
  await d.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), m('cancel'));
  // Escape closes it and gives the focus back to the button that opened it.
  await page.keyboard.press('Escape');
  await d.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), `${m('ad_activate')} ${grading}`);
  await page.keyboard.press('Enter');
  await d.waitFor();
  // The radios come before the buttons: Shift+Tab from Cancel reaches the checked one.
  await tabTo(page, (f) => f.tag === 'INPUT' && f.type === 'radio', 10, 'Shift+Tab');
  const choose = async () => {
    for (let i = 0; i < 10; i++) {
      const label = await page.evaluate(() => document.activeElement?.closest('label')?.textContent ?? '');
      if (label.includes(seed.institution.name)) return;
      await page.keyboard.press('ArrowDown');
    }
    throw new Error('Northfield is not among the choices');
  };
  await choose();
  await d.getByText(m('ad_whom_institution', { institution: seed.institution.name })).waitFor();
  await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === m('ad_activate'), 10);
  await page.keyboard.press('Enter');
  await status(page, new RegExp(`^${grading} .*${seed.institution.name}`));
  await servingRow(page, 'grading', inst).getByText(m('ad_own_choice'), { exact: true }).waitFor();

  // And back to the platform default, with the keyboard again.
  await page.locator('#slot-grading-h').evaluate((h) => {
    h.setAttribute('tabindex', '-1');
    h.focus();
  });
  await tabTo(page, (f) => f.tag === 'BUTTON' && f.text.startsWith(m('ad_use_default')));
  await page.keyboard.press('Enter');
  const back = dialog(page, m('ad_default_title', { slot: m('ad_slot_grading'), scope: seed.institution.name }));
  await back.waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), m('ad_use_default'));
  await page.keyboard.press('Enter');
  await status(page, m('ad_default_restored', { scope: seed.institution.name, plugin: grading }));
  const after = (await apiGet(root, '/api/v1/plugins')).find((p) => p.key === grading);
  assert.deepEqual(after.active_in, ['platform']);
  w.assertClean('the keyboard-only plugin console');
  await context.close();
});

test('operations: topics, a dead letter replayed and one discarded, a webhook and its log', { timeout: 180_000 }, async () => {
  const root = await token(seed.platformAdmin);
  // Two events no worker can handle: a malformed payload goes straight to the dead letters.
  for (const key of ['junk-replay', 'junk-discard']) {
    const r = await apiCall(root, 'POST', '/api/v1/admin/bus/topics/attempt.submitted/messages', { key, payload: { not: 'an attempt' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  const letters = await until('two dead letters', async () => {
    const items = (await apiGet(root, '/api/v1/admin/bus/dead-letters')).items;
    const mine = items.filter((l) => l.key.startsWith('junk-'));
    return mine.length === 2 ? mine : undefined;
  });
  const replayed = letters.find((l) => l.key === 'junk-replay');

  const { context, page, w } = await open(seed.platformAdmin, '/admin/operations');
  const health = page.getByRole('region', { name: m('ad_health_title') });
  await health.getByText(m('ad_health_answering')).waitFor();
  // The version the server reports, and whether email is configured (this server has none).
  const about = await apiGet(await token(seed.platformAdmin), '/api/v1/admin/about');
  await health.locator('#ad-version').getByText(new RegExp(`^${about.version.replace(/\./g, '\\.')} `)).waitFor();
  await health.getByText(m('ad_health_email_off')).waitFor();
  // The email check says why nothing can be sent.
  const email = page.getByRole('region', { name: m('ad_email_title') });
  await email.getByLabel(m('ad_email_to')).fill('ops@example.test');
  await email.getByRole('button', { name: m('ad_email_send') }).click();
  await email.locator('#ad-email-result').getByText(/^Email is not configured: /).waitFor();
  const topics = page.getByRole('region', { name: m('ad_bus_title') }).first();
  await page.locator('tr[data-topic="attempt.submitted"]').first().waitFor();
  await page.locator('tr[data-topic="attempt.submitted-grading-DLQ"]').first().waitFor();
  assert.ok(await topics.isVisible());
  const dead = page.getByRole('region', { name: m('ad_dead_title') }).first();
  await dead.locator('tr[data-key="junk-replay"]').waitFor();
  await dead.locator('tr[data-key="junk-discard"]').waitFor();
  await checkA11y(page, 'the operations page');
  await screenshot(page, 'admin-operations', { fullPage: true });

  // Replay: back to attempt.submitted (where it fails again, being junk: a new dead letter).
  await dead.locator(`tr[data-offset="${replayed.offset}"]`).getByRole('button', { name: `${m('ad_dead_replay')} junk-replay` }).click();
  const d = dialog(page, m('ad_dead_replay_title', { key: 'junk-replay' }));
  await d.getByText(/attempt\.submitted/).first().waitFor();
  await checkA11y(page, 'the replay dialog');
  await d.getByRole('button', { name: m('ad_dead_replay'), exact: true }).click();
  await status(page, m('ad_dead_replayed', { key: 'junk-replay', topic: 'attempt.submitted', offset: '\u0000' }).split('\u0000')[0]);
  const again = await until('the replayed message to fail again', async () => {
    const items = (await apiGet(root, '/api/v1/admin/bus/dead-letters')).items;
    const r = items.filter((l) => l.key === 'junk-replay');
    return r.length === 1 && r[0].offset !== replayed.offset ? r[0] : undefined;
  });
  assert.equal(again.origin_topic, 'attempt.submitted');

  // Discard.
  await dead.locator('tr[data-key="junk-discard"]').getByRole('button', { name: `${m('ad_dead_discard')} junk-discard` }).click();
  await dialog(page, m('ad_dead_discard_title', { key: 'junk-discard' })).getByRole('button', { name: m('ad_dead_discard'), exact: true }).click();
  await status(page, m('ad_dead_discarded', { key: 'junk-discard' }));
  const left = (await apiGet(root, '/api/v1/admin/bus/dead-letters')).items;
  assert.ok(!left.some((l) => l.key === 'junk-discard'), 'discarded for good');

  // A webhook for Northfield (the platform administrator picks the institution).
  await page.getByRole('combobox', { name: m('ad_institution') }).selectOption(inst);
  const hooks = page.getByRole('region', { name: m('ad_hooks_title', { institution: seed.institution.name }) });
  await hooks.waitFor();
  await hooks.getByLabel(m('ad_hook_url')).fill('https://hooks.example.edu/lectern');
  await hooks.getByRole('button', { name: m('ad_hook_create') }).click();
  const secret = await hooks.locator('[data-secret]').innerText();
  assert.match(secret, /^whsec_/);
  const card = hooks.locator('li.ad-hook').filter({ hasText: 'https://hooks.example.edu/lectern' });
  await card.getByText(m('ad_hook_active'), { exact: true }).waitFor();
  await card.getByText(m('ad_hook_log')).click();
  await card.getByText(m('ad_hook_log_empty')).waitFor();
  await checkA11y(page, 'the webhooks');
  const listed = await apiGet(root, `/api/v1/institutions/${inst}/webhooks`);
  const hook = listed.items.find((h) => h.url === 'https://hooks.example.edu/lectern');
  assert.ok(hook && !hook.secret);
  await card.getByRole('button', { name: m('ad_hook_delete') }).click();
  await dialog(page, m('ad_hook_delete_title')).getByRole('button', { name: m('ad_hook_delete'), exact: true }).click();
  await status(page, m('ad_hook_deleted', { url: 'https://hooks.example.edu/lectern' }));
  assert.ok(!(await apiGet(root, `/api/v1/institutions/${inst}/webhooks`)).items.some((h) => h.id === hook.id));
  w.assertClean('the operations page');
  await context.close();
});

test('the audit log: what administrators did, filtered, exported; the chain verified', { timeout: 120_000 }, async () => {
  // Something to find: a refused sign-in, then the administrator's own.
  const refused = await login({ ...seed.admin, password: 'not the password' });
  assert.equal(refused.status, 401);
  const { context, page, w } = await open(seed.admin, '/admin/audit');
  await page.getByRole('heading', { level: 1, name: m('ad_audit_title') }).waitFor();
  const table = page.getByRole('region', { name: m('ad_audit_entries') });
  await table.locator('tr[data-outcome="denied"]').filter({ hasText: 'auth.login' }).first().waitFor();
  await checkA11y(page, 'the audit log');
  await screenshot(page, 'admin-audit');
  // Only sign-ins.
  const filters = page.getByRole('form', { name: m('ad_audit_filters') });
  await filters.getByLabel(m('ad_audit_action')).fill('auth.');
  await filters.getByRole('button', { name: m('ad_audit_apply') }).click();
  await until('only sign-ins listed', async () => {
    const actions = await table.locator('tbody th code').allInnerTexts();
    return actions.length > 0 && actions.every((a) => a === 'auth.login');
  });
  // The export is a file of one entry per line.
  const [download] = await Promise.all([page.waitForEvent('download'), filters.getByRole('link', { name: m('ad_audit_export') }).click()]);
  const lines = (await (await download.createReadStream()).toArray()).join('').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.action === 'auth.login' && l.outcome === 'denied'), 'the refused sign-in is exported');
  assert.ok(lines.every((l) => typeof l.hash === 'string' && l.hash.length === 64));
  w.assertClean('the audit log');
  await context.close();

  // The platform administrator verifies the chain and sees its head.
  const root = await open(seed.platformAdmin, '/admin/audit');
  await root.page.getByRole('button', { name: m('ad_audit_verify') }).click();
  await root.page.getByRole('status').filter({ hasText: m('ad_audit_verified') }).waitFor();
  await checkA11y(root.page, 'the audit chain verified');
  root.w.assertClean('the audit chain');
  await root.context.close();
});

test('a student sees no administration page, and the API refuses the calls anyway', { timeout: 120_000 }, async () => {
  const student = seed.students[1];
  const { context, page, w } = await open(student, '/');
  assert.equal(await page.getByRole('link', { name: m('nav_admin'), exact: true }).count(), 0, 'no Administration link');
  for (const path of ['/admin', '/admin/people', '/admin/courses', '/admin/oauth', '/admin/plugins', '/admin/operations', '/admin/audit']) {
    await page.goto(path);
    await page.getByRole('alert').filter({ hasText: m('ad_not_allowed') }).waitFor();
    assert.equal(await page.getByRole('table').count(), 0, `${path} shows nothing`);
    assert.equal(await page.getByRole('button', { name: m('ad_activate') }).count(), 0);
  }
  await checkA11y(page, 'an administration page for a student');
  await screenshot(page, 'admin-student-refused');
  // The page made no call the API would refuse; the API refuses them all the same.
  w.assertClean('administration pages for a student');
  const bearer = await token(student);
  const grading = 'org.lectern.grading@1.1.0';
  for (const [method, path, body] of [
    ['GET', `/api/v1/institutions/${inst}/users`],
    ['POST', `/api/v1/institutions/${inst}/users`, { email: 'x@northfield.test', name: 'X' }],
    ['POST', `/api/v1/institutions/${inst}/users/${seed.students[0].id}/deactivate`],
    ['POST', `/api/v1/institutions/${inst}/courses`, { code: 'X-1', title: 'X' }],
    ['GET', `/api/v1/institutions/${inst}/oauth-clients`],
    ['POST', `/api/v1/institutions/${inst}/keys/rotate`],
    ['GET', '/api/v1/plugins'],
    ['POST', '/api/v1/plugins/slots/grading/activate', { plugin: grading, institution: inst }],
    ['POST', '/api/v1/plugins/slots/grading/rollback', { institution: inst }],
    ['GET', '/api/v1/admin/bus/topics'],
    ['GET', '/api/v1/admin/bus/dead-letters'],
    ['GET', `/api/v1/institutions/${inst}/webhooks`],
    ['GET', '/api/v1/marketplace/alerts'],
    ['GET', `/api/v1/institutions/${inst}/audit`],
    ['GET', `/api/v1/institutions/${inst}/audit/export`],
    ['GET', '/api/v1/admin/audit/verify'],
  ]) {
    const r = await apiCall(bearer, method, path, body);
    assert.equal(r.status, 403, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  await context.close();
});
