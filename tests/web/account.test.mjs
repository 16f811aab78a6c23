// The account page (the language stored on the user, "my sessions" with revoke) and the OAuth
// consent page (sign in first when needed, allow → a code the client can redeem, deny →
// access_denied), through the real pages; axe and screenshots on the way.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { checkA11y, config, launch, msg, newContext, screenshot, signedInPage, signIn, watch } from './harness.mjs';

const { url, seed } = config();
const student = seed.students[1];
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A JSON request to the API with a bearer token (the test's own client, not the page's). */
async function apiCall(method, path, { token, body, cookie, userAgent } = {}) {
  const headers = { accept: 'application/json' };
  if (userAgent) headers['user-agent'] = userAgent;
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

async function login(person, userAgent) {
  const r = await apiCall('POST', '/api/v1/auth/login', {
    userAgent,
    body: { institution: person.institution, email: person.email, password: person.password },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cookie = r.headers.get('set-cookie').split(';')[0];
  return { token: r.body.access_token, cookie, session: r.body.session.id };
}

test('the account page: the language follows the user to a new browser; another session is revoked', { timeout: 90_000 }, async () => {
  // A second session of the same student, as another device would hold it.
  const device = 'Study tablet (Lectern test)';
  const other = await login(student, device);
  assert.equal((await apiCall('GET', '/api/v1/me', { cookie: other.cookie })).status, 200);

  const { context, page, w } = await signedInPage(browser, student);
  await page.getByRole('link', { name: msg('en', 'nav_account') }).click();
  await page.getByRole('heading', { level: 1, name: msg('en', 'account_title') }).waitFor();

  // Every session is listed (the seed signed in too); this browser's is marked and has no
  // revoke button, the tablet's has one.
  const rows = page.getByRole('table').getByRole('row');
  const mine = rows.filter({ hasText: msg('en', 'sessions_this') });
  await mine.waitFor();
  assert.equal(await mine.getByRole('button').count(), 0);
  const tablet = rows.filter({ hasText: device });
  assert.equal(await tablet.count(), 1);
  await checkA11y(page, 'the account page');
  await screenshot(page, 'account');
  await tablet.getByRole('button', { name: msg('en', 'sessions_revoke_named', { device }) }).click();
  await page.getByRole('status').filter({ hasText: msg('en', 'sessions_revoked') }).waitFor();
  await page.waitForFunction((d) => !document.body.innerText.includes(d), device);
  // The other device is signed out at once.
  assert.equal((await apiCall('GET', '/api/v1/me', { cookie: other.cookie })).status, 401);

  // "Download my data": the whole export, as a file, with this browser's session.
  const data = page.getByRole('region', { name: msg('en', 'account_data_title') });
  const link = data.getByRole('link', { name: msg('en', 'account_data_download') });
  const exported = await page.request.get(await link.getAttribute('href'));
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()['content-disposition'] ?? '', /attachment; filename="lectern-person-/);
  const doc = await exported.json();
  assert.equal(doc.person.account.email, student.email);
  assert.ok(Array.isArray(doc.person.enrolments) && doc.person.enrolments.length > 0, 'her courses are in it');

  // French, saved on the user: the page switches now…
  await page.getByRole('combobox', { name: msg('en', 'language') }).last().selectOption('fr');
  await page.getByRole('heading', { level: 1, name: msg('fr', 'account_title') }).waitFor();
  await page.getByRole('status').filter({ hasText: msg('fr', 'account_language_saved') }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  const me = await apiCall('GET', '/api/v1/me', { token: (await login(student)).token });
  assert.equal(me.body.user.locale, 'fr');
  w.assertClean('the account page');
  await context.close();

  // …and a fresh browser with an English preference shows French once the student signs in.
  const fresh = await newContext(browser, { locale: 'en-US' });
  const page2 = await fresh.newPage();
  const w2 = watch(page2);
  w2.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  await page2.goto('/');
  // The form is in the browser's English; once signed in, the user's French takes over.
  await page2.getByLabel(msg('en', 'signin_institution'), { exact: true }).fill(student.institution);
  await page2.getByLabel(msg('en', 'signin_email'), { exact: true }).fill(student.email);
  await page2.getByLabel(msg('en', 'signin_password'), { exact: true }).fill(student.password);
  await page2.getByRole('button', { name: msg('en', 'signin_submit'), exact: true }).click();
  await page2.getByRole('link', { name: msg('fr', 'nav_dashboard') }).waitFor();
  await screenshot(page2, 'dashboard-after-language');
  w2.assertClean('a new browser after the language change');
  await fresh.close();
});

test('OAuth consent: the user signs in, sees the client and its scopes, allows or denies', { timeout: 90_000 }, async () => {
  const admin = await login(seed.admin);
  const redirect = 'http://127.0.0.1:9/callback';
  const created = await apiCall('POST', `/api/v1/institutions/${seed.institution.slug}/oauth-clients`, {
    token: admin.token,
    body: { name: 'Study Planner', confidential: false, redirect_uris: [redirect], grant_types: ['authorization_code'], scopes: ['openid', 'profile'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const clientId = created.body.client_id;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = (state) =>
    `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirect,
      scope: 'openid profile',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;

  const context = await newContext(browser);
  // The client's callback is not a real server: answer it in the browser and record where it went.
  const landed = [];
  await context.route(`${redirect}**`, (route) => {
    landed.push(new URL(route.request().url()));
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Study Planner</title><h1>Back in the app</h1>' });
  });
  const page = await context.newPage();
  const w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  w.allow({ status: 401, url: '/api/v1/oauth/consent', method: 'GET' });

  // Not signed in: the consent page asks for the sign-in first, then shows the request.
  await page.goto(authorize('first'));
  assert.equal(new URL(page.url()).pathname, '/consent');
  // students[0]: the first test switched students[1] to French.
  await signIn(page, seed.students[0]);
  await page.getByRole('heading', { level: 1, name: msg('en', 'consent_title') }).waitFor();
  await page.getByText(msg('en', 'consent_intro', { client: 'Study Planner' })).waitFor();
  await page.getByText(msg('en', 'scope_openid')).waitFor();
  await page.getByText(msg('en', 'scope_profile')).waitFor();
  await checkA11y(page, 'the consent page');
  await screenshot(page, 'consent');

  await page.getByRole('button', { name: msg('en', 'consent_allow') }).click();
  await page.getByRole('heading', { name: 'Back in the app' }).waitFor();
  const allowed = landed.at(-1);
  assert.equal(allowed.searchParams.get('state'), 'first');
  const code = allowed.searchParams.get('code');
  assert.ok(code, `a code: ${allowed}`);
  // The client redeems it with its verifier.
  const token = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: clientId, code_verifier: verifier }),
  });
  assert.equal(token.status, 200, await token.clone().text());
  assert.ok((await token.json()).access_token);

  // Signed in already: the consent page comes at once; Deny sends access_denied back.
  await page.goto(authorize('second'));
  await page.getByRole('button', { name: msg('en', 'consent_deny') }).click();
  await page.getByRole('heading', { name: 'Back in the app' }).waitFor();
  const denied = landed.at(-1);
  assert.equal(denied.searchParams.get('error'), 'access_denied');
  assert.equal(denied.searchParams.get('state'), 'second');
  assert.equal(denied.searchParams.get('code'), null);
  w.assertClean('the consent flow');
  await context.close();
});
