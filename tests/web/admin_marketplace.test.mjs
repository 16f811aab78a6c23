// The plugin console with a local marketplace: hot swap during an exam, roll back, revocation.
//
// - While a student is in an exam (another browser context), the platform administrator
//   publishes a new version of the grading plugin to the local marketplace, refreshes the index
//   from the console, installs the new version (reviewing and granting what it requests), and
//   activates it as the platform default: the student's saves keep succeeding, and the attempt
//   is graded by the new version. Then the administrator rolls back from the console.
// - The marketplace revokes that version; after a refresh from the console the platform
//   administrator sees the alert, on the console and on /admin, and the version cannot be
//   activated again.
//
// Needs a server started with a local marketplace (as `cargo xtask run` makes one, see
// xtask/src/main.rs `local_marketplace`), installed from it, and these variables:
//
//   LECTERN_MARKETPLACE_DIR   the marketplace directory (`lectern marketplace init DIR`); skipped when unset
//   LECTERN_MARKETPLACE_KEYS  its keys directory (default: DIR-keys, as xtask lays them out): the
//                             online keys (snapshot.pem, timestamp.pem), targets.pem for revocation,
//                             and the publisher's key org.lectern.pem
//   LECTERN_BIN               the `lectern` binary (default: target/debug/lectern, else `lectern` on PATH)
//
// A new version is made from the marketplace's own newest grading package: its component states
// its version (the host checks `info` against the manifest), so the test rewrites that string in
// the component's data (same length: 1.1.0 → 1.1.1), then packs, signs and publishes it with
// `lectern plugin pack|sign` and `lectern marketplace add`, as a publisher would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { WARMUP_QUESTIONS } from './course.mjs';
import { checkA11y, config, launch, msg, screenshot, signedInPage, until } from './harness.mjs';

const DIR = process.env.LECTERN_MARKETPLACE_DIR;
const KEYS = process.env.LECTERN_MARKETPLACE_KEYS ?? (DIR ? `${DIR.replace(/\/+$/, '')}-keys` : undefined);
const localBin = fileURLToPath(new URL('../../target/debug/lectern', import.meta.url));
const BIN = process.env.LECTERN_BIN ?? (existsSync(localBin) ? localBin : 'lectern');
const SKIP = DIR
  ? false
  : 'LECTERN_MARKETPLACE_DIR is not set: these tests need a server installed from a local marketplace (see the top of this file)';
const PLUGIN = 'org.lectern.grading';

const m = (key, params) => msg('en', key, params);
let browser;
let cfg;
/** The version this file publishes (set by the first test, revoked by the second). */
let published;
let previous;

before(async () => {
  if (SKIP) return;
  cfg = config();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// ---- The publisher's side: a new version in the local marketplace ----

function lectern(args) {
  try {
    return execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${BIN} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** The regular files of a tar archive (ustar), by name. */
function untar(buf) {
  const files = new Map();
  for (let at = 0; at + 512 <= buf.length; ) {
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const field = (o, n) => h.subarray(o, o + n).toString('utf8').replace(/\0.*$/s, '');
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = h[156];
    if (type === 0x30 || type === 0) files.set(name, Buffer.from(buf.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const semver = (v) => v.split(/[.+-]/).slice(0, 3).map(Number);
const newer = (a, b) => {
  const [x, y] = [semver(a), semver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
};

/**
 * Publishes the next version of the grading plugin, made from the newest one in the marketplace;
 * returns { from, to } (the versions).
 */
function publishNextGradingVersion() {
  const root = join(DIR, 'packages', PLUGIN);
  const versions = readdirSync(root).sort(newer);
  const from = versions.at(-1);
  const [major, minor, patch] = semver(from);
  const to = `${major}.${minor}.${patch + 1}`;
  assert.equal(to.length, from.length, `the next version of ${from} must have as many characters (the component is patched in place)`);
  const pkgFile = readdirSync(join(root, from)).find((f) => f.endsWith('.lpkg'));
  const files = untar(gunzipSync(readFileSync(join(root, from, pkgFile))));
  const manifest = JSON.parse(files.get('manifest.json').toString('utf8'));
  const component = files.get('component.wasm');
  // The component says who it is (`info`): rewrite its version, which sits after its name.
  const said = Buffer.from(`${manifest.name}${from}`);
  const at = component.indexOf(said);
  assert.ok(at >= 0 && component.indexOf(said, at + 1) < 0, `the component names itself "${said}" exactly once`);
  component.write(to, at + said.length - from.length, 'utf8');

  const dir = mkdtempSync(join(tmpdir(), 'lectern-grading-'));
  const caps = manifest.capabilities ?? {};
  const request = {
    ...(caps.kv_quota_bytes ? { kv_quota_bytes: caps.kv_quota_bytes } : {}),
    ...(caps.clock ? { clock: true } : {}),
    ...(caps.embed ? { embed: true } : {}),
    ...(caps.vector_collections?.length ? { vector: true } : {}),
    ...(caps.publish?.length ? { publish: caps.publish } : {}),
    ...(caps.subscribe?.length ? { subscribe: caps.subscribe } : {}),
  };
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ id: PLUGIN, version: to, slot: manifest.slot, data_version: manifest.data_version, capabilities: request, resources: manifest.resources }, null, 2),
  );
  writeFileSync(
    join(dir, 'Cargo.toml'),
    [
      '[package]',
      'name = "lectern-grading"',
      `version = "${to}"`,
      `license = ${JSON.stringify(manifest.license)}`,
      `description = ${JSON.stringify(`${manifest.description} (${to}: republished by the browser test)`)}`,
      '',
      '[package.metadata.lectern]',
      `name = ${JSON.stringify(manifest.name)}`,
      `publisher = ${JSON.stringify(manifest.publisher.id)}`,
      `kernel = ${JSON.stringify(manifest.kernel)}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'component.wasm'), component);
  const pkg = join(dir, `${PLUGIN}-${to}.lpkg`);
  const publisherKey = join(KEYS, `${manifest.publisher.id}.pem`);
  lectern(['plugin', 'pack', '--dir', dir, '--component', join(dir, 'component.wasm'), '--out', pkg]);
  lectern(['plugin', 'sign', pkg, '--key', publisherKey]);
  lectern(['marketplace', 'add', DIR, pkg, '--key', publisherKey, '--keys', KEYS]);
  return { from, to };
}

// ---- The API, to prepare and check (the test's own client) ----

async function token(person) {
  const r = await fetch(`${cfg.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: person.institution, email: person.email, password: person.password }),
  });
  assert.equal(r.status, 200, `login as ${person.email}`);
  return (await r.json()).access_token;
}

async function apiCall(bearer, method, path, body) {
  const headers = { authorization: `Bearer ${bearer}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(cfg.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const activeGrading = async (root) =>
  (await apiCall(root, 'GET', '/api/v1/plugins')).find((p) => p.slot === 'grading' && p.active_in.includes('platform'))?.key;

// ---- The pages ----

async function open(person, path) {
  const { context, page, w } = await signedInPage(browser, person);
  await page.goto(path);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page, w };
}

const versionRow = (page, key) => page.locator(`section[data-slot="grading"] tr[data-plugin="${key}"]`);
const dialog = (page, title) => page.getByRole('dialog', { name: title });
const status = (page, text) => page.getByRole('status').filter({ hasText: text }).first().waitFor();
const section = (page, id) => page.locator(`section[data-question="${id}"]`);
const saved = (page, id) =>
  page.waitForFunction((q) => document.querySelector(`section[data-question="${q}"] .save-state`)?.getAttribute('data-state') === 'saved', id);

test('a new grading version installed and activated from the console during an exam, then rolled back', { skip: SKIP, timeout: 300_000 }, async () => {
  const { seed } = cfg;
  const root = await token(seed.platformAdmin);
  const teacher = await token(seed.teacher);
  previous = await activeGrading(root);
  assert.ok(previous?.startsWith(`${PLUGIN}@`), `the marketplace's grading plugin serves the platform: ${previous}`);

  // An exam for the student, on the seeded course: the warm-up's three questions, not proctored.
  const course = seed.course.id;
  const hours = (h) => new Date(Date.now() + h * 3600_000).toISOString();
  const created = await apiCall(teacher, 'POST', `/api/v1/institutions/${seed.institution.slug}/courses/${course}/assessments`, {
    title: 'Hot-swap check',
    questions: WARMUP_QUESTIONS.map((q) => q.question),
    settings: { attempts_allowed: 1, opens_at: hours(-1), closes_at: hours(24), time_limit_secs: 30 * 60 },
  });
  await apiCall(teacher, 'PATCH', `/api/v1/assessments/${created.id}`, { published: true });
  const [colour, autotroph, stomata] = WARMUP_QUESTIONS.map((q) => q.question);

  // The student starts and answers the first question on the version serving now.
  const student = seed.students[1];
  const s = await open(student, `/courses/${course}/assessments/${created.id}`);
  await s.page.getByRole('button', { name: m('exam_start'), exact: true }).click();
  await s.page.getByRole('heading', { level: 1, name: 'Hot-swap check' }).waitFor();
  await section(s.page, colour.id).getByLabel(colour.labels.green, { exact: true }).check();
  await saved(s.page, colour.id);

  // The publisher puts a new version in the marketplace.
  const { to } = publishNextGradingVersion();
  published = `${PLUGIN}@${to}`;

  // The administrator refreshes the index, finds it, reviews what it requests and installs it.
  const a = await open(seed.platformAdmin, '/admin/plugins');
  await a.page.getByRole('button', { name: m('ad_market_refresh') }).click();
  await status(a.page, m('ad_market_refreshed', { timestamp: '' }).split(' (')[0]);
  const entry = a.page.locator(`article[data-plugin-id="${PLUGIN}"]`);
  const row = entry.locator(`tr[data-version="${to}"]`);
  await row.getByText(m('ad_compatible'), { exact: true }).waitFor();
  // Its provenance, from the publisher's signed listing: the key that signed the package.
  assert.match(await row.locator('.ad-provenance').innerText(), new RegExp(`${m('ad_signed_by')} [0-9a-f]{12}…`));
  await checkA11y(a.page, 'the plugin console with a marketplace');
  await screenshot(a.page, 'admin-marketplace', { fullPage: true });
  await row.getByRole('button', { name: `${m('ad_install')} ${published}` }).click();
  const install = dialog(a.page, m('ad_install_title', { name: 'Lectern grading', version: to }));
  await install.getByText(m('ad_install_checks')).waitFor();
  const confirm = install.getByRole('button', { name: m('ad_install'), exact: true });
  assert.ok(await confirm.isDisabled(), 'nothing is installed before the grant is given');
  await install.getByLabel(m('ad_install_grant', { plugin: published })).check();
  await install.getByLabel(m('ad_install_standby')).check();
  await checkA11y(a.page, 'the install dialog');
  await screenshot(a.page, 'admin-install-dialog');
  await confirm.click();
  await status(a.page, m('ad_installed_standby', { plugin: published, publisher: 'org.lectern' }));
  await versionRow(a.page, published).getByText(m('ad_status_installed'), { exact: true }).waitFor();
  assert.equal(await activeGrading(root), previous, 'installed, not yet serving');

  // Activate it as the platform default: the dialog says what changes and for whom.
  await versionRow(a.page, published).getByRole('button', { name: `${m('ad_activate')} ${published}` }).click();
  const activate = dialog(a.page, m('ad_activate_title', { plugin: published }));
  await activate.getByRole('radio', { name: new RegExp(`^${m('ad_scope_platform')}`) }).check();
  await activate.getByText(previous, { exact: true }).waitFor();
  await activate.getByText(m('ad_change_inflight', { from: previous })).waitFor();
  await activate.getByText(new RegExp(seed.institution.name)).first().waitFor();
  await activate.getByRole('button', { name: m('ad_activate'), exact: true }).click();
  // The activation's own message (the install's, which also starts with the version, may still be shown).
  await status(a.page, m('ad_activated', { plugin: published, scope: m('ad_scope_platform'), previous, ms: '' }).split(' (')[0]);
  assert.equal(await activeGrading(root), published);

  // The student's next saves succeed on the new version; the attempt is graded by it.
  await section(s.page, autotroph.id).getByLabel(m('exam_true'), { exact: true }).check();
  await saved(s.page, autotroph.id);
  await section(s.page, stomata.id).getByLabel(stomata.prompt, { exact: true }).fill('stomata');
  await saved(s.page, stomata.id);
  await s.page.getByRole('button', { name: m('exam_submit'), exact: true }).first().click();
  await s.page.getByRole('dialog', { name: m('exam_submit_title') }).getByRole('button', { name: m('exam_submit_confirm'), exact: true }).click();
  await s.page.locator('#submitted-state').getByText(m('exam_submitted_title')).waitFor();
  // The result page loads the course and the grade: let it finish before the context closes.
  await s.page.waitForLoadState('networkidle');
  const grade = await until('the grade', async () => {
    const book = await apiCall(teacher, 'GET', `/api/v1/institutions/${seed.institution.slug}/courses/${course}/gradebook`);
    return book.items.find((g) => g.item === created.id && g.student === student.id && g.status === 'graded');
  }, 60);
  assert.equal(grade.graded_by, `plugin:${published}`, 'graded by the new version');
  assert.equal(grade.points, 3);
  await s.page.waitForLoadState('networkidle');
  s.w.assertClean('the exam during the hot swap');
  await s.context.close();

  // Roll back from the console: the previous version serves the platform again.
  await versionRow(a.page, published).getByText(m('ad_status_active'), { exact: true }).waitFor();
  await a.page.locator('section[data-slot="grading"] tr[data-scope="default"]').getByRole('button', { name: new RegExp(`^${m('ad_rollback')}`) }).click();
  const back = dialog(a.page, m('ad_rollback_title', { slot: m('ad_slot_grading'), scope: m('ad_scope_platform') }));
  await back.getByText(m('ad_change_inflight', { from: published })).waitFor();
  await checkA11y(a.page, 'the rollback dialog');
  await back.getByRole('button', { name: m('ad_rollback'), exact: true }).click();
  await status(a.page, m('ad_rolled_back', { scope: m('ad_scope_platform'), plugin: previous, previous: published }));
  assert.equal(await activeGrading(root), previous);
  await versionRow(a.page, published).getByText(m('ad_status_standby'), { exact: true }).waitFor();
  a.w.assertClean('the plugin console');
  await a.context.close();
});

test('a revoked version raises an alert after a refresh from the console', { skip: SKIP, timeout: 180_000 }, async () => {
  assert.ok(published, 'the previous test published a version');
  const { seed } = cfg;
  lectern(['marketplace', 'revoke', DIR, '--keys', KEYS, '--package', published, '--reason', 'grades short answers wrong']);

  const a = await open(seed.platformAdmin, '/admin/plugins');
  await a.page.getByRole('button', { name: m('ad_market_refresh') }).click();
  const alert = a.page.getByRole('alert').filter({ hasText: m('ad_alert_revoked', { plugin: published }) });
  await alert.waitFor();
  await alert.getByText(/grades short answers wrong/).waitFor();
  // The catalogue marks it, and the console no longer offers to activate it.
  await a.page.locator(`article[data-plugin-id="${PLUGIN}"] tr[data-version="${published.split('@')[1]}"]`).getByText(m('ad_revoked'), { exact: true }).waitFor();
  await versionRow(a.page, published).getByText(m('ad_revoked'), { exact: true }).waitFor();
  assert.equal(await versionRow(a.page, published).getByRole('button', { name: `${m('ad_activate')} ${published}` }).count(), 0);
  await checkA11y(a.page, 'the plugin console with an alert');
  await screenshot(a.page, 'admin-revocation-alert');
  // The index of the consoles shows it too, first.
  await a.page.goto('/admin');
  await a.page.getByRole('alert').filter({ hasText: m('ad_alert_revoked', { plugin: published }) }).waitFor();
  await checkA11y(a.page, 'the administration index with an alert');
  a.w.assertClean('the console after a revocation');
  await a.context.close();
});
