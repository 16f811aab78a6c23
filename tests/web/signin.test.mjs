// Smoke test of the foundation: sign-in (and its errors), the signed-in shell, the second
// language, sign-out; axe and screenshots on the way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, config, launch, msg, newContext, screenshot, signIn, signOut, watch } from './harness.mjs';

const { seed } = config();
const student = seed.students[0];
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A new signed-out page with its watcher; `/api/v1/me` answers 401 until someone signs in. */
async function freshPage(options) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  return { context, page, w };
}

test('the app is served with a strict Content-Security-Policy', { timeout: 60_000 }, async (t) => {
  const { context, page, w } = await freshPage();
  const res = await page.goto('/');
  const html = await res.text();
  if (html.includes('/@vite/client')) {
    t.skip("served by Vite's dev server, which sends no policy");
  } else {
    const csp = res.headers()['content-security-policy'] ?? '';
    const directive = (name) => csp.split(';').map((d) => d.trim().split(/\s+/)).find((d) => d[0] === name)?.slice(1);
    const scripts = directive('script-src') ?? directive('default-src');
    assert.ok(scripts, `a script-src or default-src: ${csp}`);
    for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'http:', 'https:']) {
      assert.ok(!scripts.includes(unsafe), `script-src allows ${unsafe}: ${csp}`);
    }
    assert.deepEqual(directive('object-src'), ["'none'"], csp);
    assert.ok(directive('frame-ancestors'), `frame-ancestors: ${csp}`);
    // The built page has no inline script for the policy to refuse.
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline <script> in index.html');
  }
  await page.getByRole('heading', { level: 1, name: msg('en', 'signin_title') }).waitFor();
  w.assertClean('the first load');
  await context.close();
});

test('a wrong password shows the generic error, the same as for an account that does not exist', { timeout: 60_000 }, async () => {
  const { context, page, w } = await freshPage();
  const refused = w.expect({ status: 401, url: '/api/v1/auth/login', method: 'POST' });
  await page.goto('/');
  await page.getByRole('heading', { level: 1, name: msg('en', 'signin_title') }).waitFor();
  // Nobody was signed in: the 401 of /api/v1/me is not a session that ended.
  assert.equal(await page.getByText(msg('en', 'signin_expired')).count(), 0, 'a first visit says nothing about an ended session');
  await checkA11y(page, 'the sign-in page');
  await screenshot(page, 'signin');

  const shown = async () => (await page.getByRole('alert').innerText()).trim();
  await signIn(page, { ...student, password: 'not the password at all' }, { expectFailure: true });
  const wrongPassword = await shown();
  assert.equal(wrongPassword, msg('en', 'signin_failed'));
  await signIn(page, { ...student, email: 'nobody@northfield.test', password: 'not the password at all' }, { expectFailure: true });
  assert.equal(await shown(), wrongPassword, 'an unknown account reads exactly like a wrong password');
  await signIn(page, { ...student, institution: 'no-such-college', password: 'not the password at all' }, { expectFailure: true });
  assert.equal(await shown(), wrongPassword, 'an unknown institution too');
  assert.equal(refused.seen, 3);
  // The field keeps what was typed except the password, and the error is announced (role=alert).
  await checkA11y(page, 'the sign-in page with an error');
  await screenshot(page, 'signin-error');
  w.assertClean('sign-in with wrong passwords');
  await context.close();
});

test('the right password reaches the dashboard; sign-out ends the session', { timeout: 60_000 }, async () => {
  const { context, page, w } = await freshPage();
  await page.goto('/');
  await signIn(page, student);

  // The dashboard, under the student's own (non-ASCII) name.
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByText(student.name, { exact: true }).waitFor();
  const nav = page.getByRole('navigation', { name: msg('en', 'nav_main') });
  assert.equal(await nav.getByRole('link', { name: msg('en', 'nav_dashboard') }).getAttribute('aria-current'), 'page');
  const title = (await page.getByRole('heading', { level: 1 }).innerText()).trim();
  assert.notEqual(title, msg('en', 'not_found_title'), 'the dashboard is a page of its own');

  // The session is a cookie script cannot read.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'lectern_session');
  assert.ok(session, `a session cookie: ${JSON.stringify(cookies)}`);
  assert.equal(session.httpOnly, true);
  assert.notEqual(session.sameSite, 'None');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('lectern_session'));

  await checkA11y(page, 'the dashboard');
  await screenshot(page, 'dashboard');

  await signOut(page);
  await page.getByRole('status').filter({ hasText: msg('en', 'signout_done') }).waitFor();
  // Signed out for real: a reload asks the server, which no longer knows the session.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: msg('en', 'signin_title') }).waitFor();
  assert.equal((await context.cookies()).filter((c) => c.name === 'lectern_session' && c.value).length, 0, 'the cookie is gone');
  w.assertClean('sign-in, dashboard and sign-out');
  await context.close();
});

test('the second language renders, from the sign-in page on', { timeout: 60_000 }, async () => {
  // A browser asking for English: the choice on the page is what switches to French.
  const { context, page, w } = await freshPage({ locale: 'en-GB' });
  await page.goto('/');
  // Not exact: a select inside its label is named by the label and its chosen option ("Language English").
  await page.getByLabel(msg('en', 'language')).selectOption('fr');
  await page.getByRole('heading', { level: 1, name: msg('fr', 'signin_title') }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  await page.getByText(msg('fr', 'signin_institution_hint')).waitFor();
  await checkA11y(page, 'the sign-in page in French');
  await screenshot(page, 'signin-fr');

  await signIn(page, student, { lang: 'fr' });
  const nav = page.getByRole('navigation', { name: msg('fr', 'nav_main') });
  await nav.getByRole('link', { name: msg('fr', 'nav_dashboard') }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  await checkA11y(page, 'the dashboard in French');
  await screenshot(page, 'dashboard-fr');

  await signOut(page, { lang: 'fr' });
  await page.getByRole('status').filter({ hasText: msg('fr', 'signout_done') }).waitFor();
  w.assertClean('the French sign-in');
  await context.close();
});
