// The browser-test harness: Debian's Chromium driven by playwright-core, run by Node's own test
// runner (`node --test tests/web/`). A test file imports what it needs from here:
//
//   const { url, seed } = config();              // LECTERN_URL and the seed's JSON (LECTERN_SEED)
//   const browser = await launch();
//   const context = await newContext(browser, { locale: 'fr-FR' });
//   const page = await context.newPage();
//   const w = watch(page);                       // console errors, page errors, failed requests, HTTP ≥ 400
//   await signIn(page, seed.students[0]);
//   await checkA11y(page, 'dashboard');          // axe-core, WCAG 2.x A/AA, serious and critical fail
//   await screenshot(page, 'dashboard');         // desktop and phone PNGs in tests/web/screenshots/
//   w.assertClean();
//
// Pages are opened by path (`page.goto('/')`): the context's baseURL is LECTERN_URL, so the server
// (a `lectern serve` serving web/dist, or Vite's dev server proxying to one) is the one thing that
// changes between runs.
//
// Dependencies come from tests/js (pinned in its package.json and package-lock.json; `npm ci` there).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../js/package.json', import.meta.url));
const { chromium } = require('playwright-core');

/** Debian's Chromium (`apt-get install chromium`); a downloaded browser build is not available here. */
export const CHROMIUM = process.env.LECTERN_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that work on this machine (no sandbox in the container, no GPU, nothing phoning home). */
export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

/**
 * Where the server is and what the seed made: `LECTERN_URL` (e.g. `http://127.0.0.1:8111`) and
 * `LECTERN_SEED`, the path of the JSON that `seed.mjs` printed.
 */
export function config() {
  const url = process.env.LECTERN_URL;
  const seedPath = process.env.LECTERN_SEED;
  if (!url || !seedPath) {
    throw new Error(
      'Set LECTERN_URL (the server under test) and LECTERN_SEED (the JSON file `node tests/web/seed.mjs URL TOKEN` printed).',
    );
  }
  return { url: url.replace(/\/+$/, ''), seed: JSON.parse(readFileSync(seedPath, 'utf8')) };
}

/** A bearer token for `person` (`{institution, email, password}`, as in the seed) on `url`. */
export async function apiToken(url, person) {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: person.institution, email: person.email, password: person.password }),
  });
  if (r.status !== 200) throw new Error(`login as ${person.email}: ${r.status} ${await r.text()}`);
  return (await r.json()).access_token;
}

/** One API call with a bearer token; fails the test unless it succeeds; returns the JSON body. */
export async function apiCall(url, bearer, method, path, body) {
  const r = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `probe` every 250 ms until it returns something truthy, for up to `secs`. */
export async function until(what, probe, secs = 30) {
  const deadline = Date.now() + secs * 1000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${secs} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Uploads a plugin (its manifest file and built component) as the platform administrator with an
 * empty grant, and activates it in `slot` for the whole platform; returns its `id@version`.
 */
export async function installPlugin(url, seed, { manifest, wasm, slot }) {
  const root = await apiToken(url, seed.platformAdmin);
  const form = new FormData();
  form.append('manifest', new Blob([readFileSync(manifest)], { type: 'application/json' }), 'manifest.json');
  form.append('component', new Blob([readFileSync(wasm)], { type: 'application/wasm' }), 'component.wasm');
  form.append('grant', new Blob(['{}'], { type: 'application/json' }), 'grant.json');
  const r = await fetch(`${url}/api/v1/plugins`, { method: 'POST', headers: { authorization: `Bearer ${root}` }, body: form });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`install ${manifest}: ${r.status} ${text}`);
  const installed = JSON.parse(text);
  const key = `${installed.id}@${installed.version}`;
  await apiCall(url, root, 'POST', `/api/v1/plugins/slots/${slot}/activate`, { plugin: key });
  return key;
}

/**
 * A new context (`options` as for `newContext`) with one page signed in as `person`, watched
 * (the anonymous `GET /api/v1/me` before sign-in allowed), the dashboard finished loading
 * (leaving it mid-request would abort its requests). Returns `{ context, page, w }`; close the
 * context when done.
 */
export async function signedInPage(browser, person, options = {}) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  await page.goto('/');
  await signIn(page, person);
  await page.waitForLoadState('networkidle');
  return { context, page, w };
}

/** Starts Chromium. Close it in an `after` hook. */
export async function launch(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS, ...options });
}

/**
 * A fresh browser context (its own cookies and storage: one signed-in person). `baseURL` defaults
 * to LECTERN_URL so tests navigate by path. The page's Content-Security-Policy is left as the server
 * sent it: nothing here needs `bypassCSP` (see `checkA11y`).
 */
export async function newContext(browser, { locale = 'en-GB', viewport = DESKTOP, baseURL, ...rest } = {}) {
  return browser.newContext({
    baseURL: baseURL ?? process.env.LECTERN_URL,
    locale,
    viewport,
    timezoneId: 'Europe/Paris',
    reducedMotion: 'reduce',
    ...rest,
  });
}

// ---- Watching a page for errors ----

/** True when `value` (a URL, status, text) satisfies `m`: absent, equal, a RegExp, a list or a predicate. */
function matches(m, value) {
  if (m === undefined) return true;
  if (Array.isArray(m)) return m.some((x) => matches(x, value));
  if (m instanceof RegExp) return m.test(String(value));
  if (typeof m === 'function') return Boolean(m(value));
  if (typeof m === 'string' && typeof value === 'string') return value === m || value.includes(m);
  return m === value;
}

const pathOf = (u) => {
  try {
    const x = new URL(u);
    return x.pathname + x.search;
  } catch {
    return u;
  }
};

/**
 * Records what must not happen silently on a page: console errors and warnings, uncaught page
 * errors, failed requests (`requestfailed`: offline, refused, aborted) and HTTP responses ≥ 400.
 * A test declares the ones it means to cause:
 *
 *   w.allow({ status: 401, url: '/api/v1/me' });           // may happen, any number of times
 *   const stale = w.expect({ status: 409, url: /answers/ }); // must happen at least once
 *   w.allow({ failure: /ERR_INTERNET_DISCONNECTED/ });      // requests made while offline
 *   w.allow({ console: /some known message/ });
 *
 * An allowance matches on every field it names: `status` (number, list or predicate), `url`
 * (substring of the path, RegExp or predicate; matched against the path and query), `method`,
 * `failure` (the net error text, e.g. `net::ERR_ABORTED`), `console` (message text, also matched
 * against uncaught page errors). The field among `status`, `failure` and `console` that an
 * allowance names says which kind of event it is for. The browser's own console line about a
 * failed or ≥ 400 request ("Failed to load resource …") is left to the request's own check.
 * `allow()` and `expect()` return a handle: `handle.seen` counts matches, `handle.remove()` ends
 * the allowance.
 *
 * `assertClean()` throws, listing everything not allowed and every `expect()` never met.
 */
export function watch(page, { warningsAreErrors = true } = {}) {
  const problems = [];
  const allowances = [];

  /** The field that makes an allowance one for this kind of event. */
  const KIND_FIELD = { response: 'status', failure: 'failure', console: 'console' };

  function find(kind, fields) {
    for (const a of allowances) {
      if (a.removed) continue;
      const wanted = a.spec;
      if (wanted[KIND_FIELD[kind]] === undefined) continue;
      if (kind !== 'console' && !matches(wanted.url, fields.path)) continue;
      if (kind !== 'console' && !matches(wanted.method, fields.method)) continue;
      if (kind === 'response' && !matches(wanted.status, fields.status)) continue;
      if (kind === 'failure' && !matches(wanted.failure, fields.failure)) continue;
      if (kind === 'console' && !matches(wanted.console, fields.text)) continue;
      a.seen++;
      return a;
    }
    return undefined;
  }

  function allowance(spec, required) {
    const a = {
      spec,
      required,
      seen: 0,
      removed: false,
      remove() {
        a.removed = true;
      },
    };
    allowances.push(a);
    return a;
  }

  page.on('console', (msg) => {
    const type = msg.type();
    if (type !== 'error' && !(warningsAreErrors && type === 'warning')) return;
    const text = msg.text();
    // Chromium's own line for a request that failed or came back ≥ 400 ("Failed to load
    // resource: …"): the response and requestfailed handlers judge that request, with detail.
    if (text.startsWith('Failed to load resource')) return;
    if (find('console', { text })) return;
    const where = msg.location()?.url;
    problems.push(`console ${type}: ${text}${where ? ` (${pathOf(where)})` : ''}`);
  });
  page.on('pageerror', (err) => {
    if (find('console', { text: String(err?.message ?? err) })) return;
    problems.push(`page error: ${err?.stack ?? err}`);
  });
  page.on('crash', () => problems.push('the page crashed'));
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? 'failed';
    const fields = { path: pathOf(req.url()), method: req.method(), failure };
    if (find('failure', fields)) return;
    problems.push(`request failed: ${req.method()} ${fields.path} (${req.resourceType()}): ${failure}`);
  });
  page.on('response', async (res) => {
    const status = res.status();
    if (status < 400) return;
    const req = res.request();
    const fields = { path: pathOf(res.url()), method: req.method(), status };
    if (find('response', fields)) return;
    // Recorded at once (an assertClean right after still sees it), the body added when read.
    const at = problems.push(`HTTP ${status}: ${req.method()} ${fields.path}`) - 1;
    try {
      const body = await res.text();
      if (body) problems[at] += `: ${body.slice(0, 400)}`;
    } catch {
      // The body may be gone once the page navigated; the status says enough.
    }
  });

  return {
    /** Lets a response, failure or console message happen (any number of times, including none). */
    allow(spec) {
      return allowance(spec, false);
    },
    /** Like `allow`, but `assertClean` fails unless it happened at least once. */
    expect(spec) {
      return allowance(spec, true);
    },
    /** Runs `fn` with `spec` allowed, then removes the allowance; returns fn's result. */
    async allowing(spec, fn) {
      const a = allowance(spec, false);
      try {
        return await fn();
      } finally {
        a.remove();
      }
    },
    /** What was recorded so far (strings). */
    problems() {
      return [...problems];
    },
    /** Forgets what was recorded (allowances stay). */
    reset() {
      problems.length = 0;
    },
    /** Throws, listing every problem and every `expect()` that never happened. */
    assertClean(what = 'the page') {
      const unmet = allowances.filter((a) => a.required && a.seen === 0).map((a) => `expected but never seen: ${JSON.stringify(a.spec, replacer)}`);
      const all = [...problems, ...unmet];
      if (all.length) {
        throw new assert.AssertionError({ message: `${what} was not clean:\n  - ${all.join('\n  - ')}` });
      }
    },
  };
}

function replacer(_k, v) {
  if (v instanceof RegExp) return v.toString();
  if (typeof v === 'function') return `[predicate ${v.name || 'anonymous'}]`;
  return v;
}

// ---- Accessibility ----

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.x A and AA rules (2.0, 2.1, 2.2). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe-core in the page with the WCAG 2.x A/AA rules and fails on serious or critical
 * violations, listing each with the elements it found. Moderate and minor ones are printed.
 * `context` is an axe context (`'#main'`, `{ exclude: [['.video']] }`); the whole document by default.
 *
 * How axe gets into a page whose CSP is `script-src 'self'`: a `<script>` tag with the source
 * (`page.addScriptTag({ content })`) is inline script and the CSP refuses it, and launching the
 * context with `bypassCSP: true` would test a page without its real policy. Instead the source is
 * evaluated with `frame.evaluate(source)`: that runs through the DevTools protocol
 * (Runtime.evaluate), which the page's CSP does not govern, and axe itself needs no `eval`. The
 * page keeps its policy, so the app's own CSP violations still show up in `watch()`. Every frame
 * is checked on its own; violations inside a frame are listed with the frame's path. A sandboxed
 * frame without `allow-scripts` runs no timers, which axe needs, so its document is checked in a
 * helper page instead (see `axeInHelperPage`).
 */
export async function checkA11y(page, name, { context, disableRules = [], failOn = ['serious', 'critical'] } = {}) {
  const options = {
    runOnly: { type: 'tag', values: WCAG_TAGS },
    resultTypes: ['violations'],
    rules: Object.fromEntries(disableRules.map((r) => [r, { enabled: false }])),
    // Each frame is checked on its own, below: axe's messages between frames do not reach a
    // sandboxed frame (its origin is opaque), and waiting for them would only time out.
    iframes: false,
  };
  const results = [];
  const untested = [];
  const main = page.mainFrame();
  for (const frame of page.frames()) {
    const where = frame === main ? '' : `frame ${pathOf(frame.url())}: `;
    try {
      const found = (await canRunIn(frame))
        ? await axeIn(frame, frame === main ? (context ?? null) : null, options)
        : await axeInHelperPage(page, frame, options);
      results.push(...found.map((v) => ({ ...v, nodes: v.nodes.map((n) => ({ ...n, target: where + n.target })) })));
    } catch (e) {
      // A frame that went away while we looked: say so, it was not checked.
      untested.push(`${where || 'page: '}${String(e?.message ?? e).split('\n')[0]}`);
    }
  }
  if (untested.length) console.log(`axe (${name}): not checked:\n  ${untested.join('\n  ')}`);
  const failing = results.filter((v) => failOn.includes(v.impact));
  const other = results.filter((v) => !failOn.includes(v.impact));
  if (other.length) console.log(`axe (${name}): not failing the test:\n${formatAxe(other)}`);
  if (failing.length) {
    throw new assert.AssertionError({ message: `axe found ${failing.length} serious or critical violation(s) on ${name}:\n${formatAxe(failing)}` });
  }
}

/**
 * Whether axe can run in the frame itself. A sandboxed document (an iframe's `sandbox`, or a
 * response's CSP `sandbox`) has an opaque origin and, without `allow-scripts`, runs no timers,
 * which axe needs; probing with a timer would log a "Blocked script execution" error, so the
 * opaque origin decides (read synchronously, which the protocol may always do).
 */
async function canRunIn(frame) {
  return (await frame.evaluate(() => self.origin)) !== 'null';
}

/** Injects axe into `frame` and runs it there; returns the violations. */
async function axeIn(frame, context, options) {
  await frame.evaluate(`${AXE_SOURCE}\n;void 0;`);
  return frame.evaluate(
    async ({ context, options }) => {
      const r = await window.axe.run(context ?? document, options);
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
      }));
    },
    { context, options },
  );
}

/**
 * A frame that cannot run script (sandboxed course HTML): its document is loaded, unchanged but
 * without the response's Content-Security-Policy (whose `sandbox` stops timers), in a helper page
 * of the same context and checked there. A `srcdoc` frame is copied with `setContent`.
 */
async function axeInHelperPage(page, frame, options) {
  // The page's own context when it can open pages (cookies, storage), else a throwaway one.
  let own;
  const helper = await page
    .context()
    .newPage()
    .catch(async () => (own = await page.context().browser().newContext()).newPage());
  try {
    const url = frame.url();
    await helper.setViewportSize(frame.page().viewportSize() ?? DESKTOP);
    if (/^https?:/.test(url)) {
      await helper.route(url, async (route) => {
        try {
          const res = await route.fetch();
          const headers = { ...res.headers() };
          delete headers['content-security-policy'];
          await route.fulfill({ response: res, headers });
        } catch {
          await route.abort(); // then `goto` fails, and the frame is reported as not checked
        }
      });
      await helper.goto(url);
    } else {
      await helper.setContent(await frame.content());
    }
    // A framed document needs no <title> of its own (the iframe's title names it: `frame-title`).
    const framed = { ...options, rules: { ...options.rules, 'document-title': { enabled: false } } };
    return await axeIn(helper.mainFrame(), null, framed);
  } finally {
    await helper.close();
    await own?.close();
  }
}

function formatAxe(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes.slice(0, 5).map((n) => `      ${n.target}\n        ${n.html.slice(0, 200)}\n        ${(n.summary ?? '').replaceAll('\n', '\n        ')}`);
      const more = v.nodes.length > 5 ? `\n      … and ${v.nodes.length - 5} more` : '';
      return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes.join('\n')}${more}`;
    })
    .join('\n');
}

// ---- Screenshots ----

/**
 * Saves `tests/web/screenshots/{name}-desktop.png` (1280×800) and `{name}-phone.png` (390×844),
 * resizing the page's viewport for each and restoring it afterwards. `fullPage` captures the whole
 * scrollable page rather than the first screen.
 */
export async function screenshot(page, name, { fullPage = false } = {}) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  const files = [];
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ]) {
    await page.setViewportSize(viewport);
    // Let the layout settle at the new size (two frames: resize, then paint).
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const path = `${SCREENSHOTS}${name}-${size}.png`;
    await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'initial' });
    files.push(path);
  }
  if (original) await page.setViewportSize(original);
  return files;
}

// ---- The message catalogue ----

let catalogues;

/**
 * The web app's messages in `lang` (`en`, `fr`), read from web/src/i18n/messages/*.ts, so a
 * test checks the text the catalogue gives rather than a copy of it: `messages('fr').nav_dashboard`.
 */
export function messages(lang) {
  if (!catalogues) {
    catalogues = {};
    const dir = new URL('../../web/src/i18n/messages/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const src = readFileSync(new URL(file, dir), 'utf8');
      // Each file: `export const en = { key: 'text', … }` and `export const fr … = { … }`.
      for (const block of src.matchAll(/export const (\w+)\b[^=]*=\s*\{([\s\S]*?)\n\}/g)) {
        const into = (catalogues[block[1]] ??= {});
        for (const m of block[2].matchAll(/(\w+):\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)) {
          into[m[1]] = (m[2] ?? m[3]).replace(/\\(.)/g, '$1');
        }
      }
    }
  }
  const c = catalogues[lang];
  if (!c) throw new Error(`no catalogue for ${lang}`);
  return c;
}

/** One message with its `{param}`s filled in (numbers as given: format them yourself if needed). */
export function msg(lang, key, params = {}) {
  const text = messages(lang)[key];
  if (text === undefined) throw new Error(`no message ${key} in ${lang}`);
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// ---- Signing in ----

/**
 * Signs in through the real form: opens `/` if the page is still blank (else uses the page as it
 * is, e.g. a deep link that shows the form), fills the fields by their labels (in `lang`, the
 * language the form is showing), submits, waits for the API's answer and then for the signed-in header.
 * With `expectFailure` it waits for the form's error instead (wrong password tests). Returns the
 * login response.
 */
export async function signIn(page, { institution, email, password }, { lang = 'en', expectFailure = false } = {}) {
  const m = messages(lang);
  // Open the app unless a page of it is already loading or loaded (navigating again would abort
  // its first requests); the form shows once it knows nobody is signed in.
  if (page.url() === 'about:blank') await page.goto('/');
  await page.getByLabel(m.signin_password, { exact: true }).waitFor();
  await page.getByLabel(m.signin_institution, { exact: true }).fill(institution);
  await page.getByLabel(m.signin_email, { exact: true }).fill(email);
  await page.getByLabel(m.signin_password, { exact: true }).fill(password);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login' && r.request().method() === 'POST');
  await page.getByRole('button', { name: m.signin_submit, exact: true }).click();
  const res = await answered;
  if (expectFailure) {
    assert.ok(res.status() >= 400, `signing in as ${email} was expected to fail but got ${res.status()}`);
    await page.getByRole('alert').waitFor();
    return res;
  }
  assert.equal(res.status(), 200, `signing in as ${email}: ${res.status()} ${await res.text().catch(() => '')}`);
  await page.getByRole('button', { name: m.nav_sign_out, exact: true }).waitFor();
  return res;
}

/** Signs out with the header's button and waits for the sign-in form. */
export async function signOut(page, { lang = 'en' } = {}) {
  const m = messages(lang);
  await page.getByRole('button', { name: m.nav_sign_out, exact: true }).click();
  await page.getByLabel(m.signin_password, { exact: true }).waitFor();
}
