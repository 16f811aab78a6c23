// The student's pages in a real browser against a real server (see harness.mjs and seed.mjs),
// as one journey of the first student, who passed the warm-up and holds the course's credential:
//
// - the dashboard: where to continue, the course with its progress, what is due (not the
//   warm-up, whose only attempt is used), unread notifications;
// - the course: the outline with locks and their reasons (the page released in two weeks is not
//   listed), the assessments with their windows;
// - a page: the rendered course HTML (sanitised: no script, no event handlers; heading ids kept),
//   its table of contents, whose links land on their section;
// - the tutor: a question about the page's material, answered with a citation that leads to the
//   cited section of the page; a question the material does not cover; and the refusal while an
//   exam attempt is open;
// - the video: it loads, plays and seeks, with the server answering byte ranges (206), and
//   shows its default captions track (WebVTT course media) among the two offered;
// - the file and the link (completed by hand);
// - grades and feedback, per course and in detail;
// - credentials: the JSON download, the public page's link and a verification;
// - notifications: mark one read, preferences saved and kept.
//
// Every page is checked with axe (desktop and phone width) and saved as screenshots
// (`student-*`), and every console error or failed request fails the test unless declared.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, checkA11y, config, launch, messages, msg, newContext, screenshot, signIn, watch } from './harness.mjs';

const { url, seed } = config();
const student = seed.students[0];
const course = seed.course;
const m = (key, params) => msg('en', key, params);
/** A plural message as the app picks it in English (`key_one` for 1, `key_other` otherwise). */
const mp = (key, n, params = {}) => msg('en', `${key}_${n === 1 ? 'one' : 'other'}`, { n, ...params });

let browser;
let context;
let page;
let w;

before(async () => {
  browser = await launch();
  context = await newContext(browser, { acceptDownloads: true });
  page = await context.newPage();
  w = watch(page);
  w.allow({ status: 401, url: '/api/v1/me', method: 'GET' });
  await page.goto('/');
  await signIn(page, student);
});

after(async () => {
  await browser?.close();
});

/** axe at desktop and phone width, then the screenshots. */
async function audit(name, { fullPage = false } = {}) {
  await checkA11y(page, `${name} (desktop)`);
  await page.setViewportSize(PHONE);
  try {
    await checkA11y(page, `${name} (phone)`);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
  await screenshot(page, `student-${name}`, { fullPage });
}

const main = () => page.getByRole('main');
const nav = () => page.getByRole('navigation', { name: m('nav_main') });
const h1 = (name) => page.getByRole('heading', { level: 1, name, exact: true });

/** The API as the student, for what the page does not show (a bearer token, not the page's cookie). */
async function api(method, path, body) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ institution: student.institution, email: student.email, password: student.password }),
  });
  const { access_token } = await login.json();
  const r = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('the dashboard: continue, courses with progress, what is due, unread notifications', { timeout: 60_000 }, async () => {
  await h1(m('st_dashboard_welcome', { name: student.name })).waitFor();
  const continueSection = main().getByRole('region', { name: m('st_continue_title') });
  await continueSection.getByRole('link', { name: /^Continue: / }).waitFor();

  const courses = main().getByRole('region', { name: m('st_my_courses') });
  await courses.getByRole('link', { name: course.title, exact: true }).waitFor();
  const progress = courses.getByRole('progressbar', { name: m('st_progress_in', { course: course.title }) });
  const value = Number(await progress.getAttribute('aria-valuenow'));
  assert.ok(value > 0 && value <= 100, `the warm-up is done, so some progress shows: ${value}`);

  const upcoming = main().getByRole('region', { name: m('st_upcoming_title') });
  await upcoming.getByRole('link', { name: seed.assessments.unitTest.title }).waitFor();
  await upcoming.getByRole('link', { name: seed.assessments.quiz.title }).waitFor();
  assert.equal(
    await upcoming.getByRole('link', { name: seed.assessments.warmup.title }).count(),
    0,
    'the warm-up allows one attempt, which the student used: nothing is due',
  );
  const unitTest = upcoming.getByRole('listitem').filter({ hasText: seed.assessments.unitTest.title });
  assert.match(await unitTest.innerText(), /Opens /, 'the unit test is not open yet: its opening date comes first');

  // The seed left three unread; other tests may have added some since: the server says how many.
  const inbox = main().getByRole('region', { name: m('nav_notifications') });
  const unread = (await api('GET', '/api/v1/me/notifications?unread=true')).items.length;
  assert.ok(unread >= seed.notifications[0].count, `unread: ${unread}`);
  await inbox.getByText(mp('st_unread_count', unread)).waitFor();
  await audit('dashboard');
  w.assertClean('the dashboard');
});

test('the course: outline with locks and reasons, assessments with their windows', { timeout: 60_000 }, async () => {
  await main().getByRole('region', { name: m('st_my_courses') }).getByRole('link', { name: course.title, exact: true }).click();
  await h1(course.title).waitFor();
  const outline = main().getByRole('region', { name: m('st_outline_title') });
  for (const module of course.modules) await outline.getByRole('heading', { level: 3, name: module.title }).waitFor();
  await outline.getByRole('link', { name: seed.items.overview.title }).waitFor();

  // Locked behind an incomplete page: shown with the reason, not as a link.
  const unitTest = outline.getByRole('listitem').filter({ hasText: seed.items.unitTest.title });
  assert.equal(await unitTest.getByRole('link').count(), 0);
  assert.match(await unitTest.innerText(), new RegExp(`${m('st_locked')}: .*${seed.items.respiration.title}`));
  // Released in two weeks: listed under what is coming, with its date, and not a link.
  const coming = outline.getByRole('region', { name: m('st_upcoming_items') });
  const fermentation = coming.getByRole('listitem').filter({ hasText: seed.items.fermentation.title });
  await fermentation.waitFor();
  assert.equal(await fermentation.getByRole('link').count(), 0);
  assert.match(await fermentation.innerText(), new RegExp(m('st_available_from').split('{')[0].trim()));

  const assessments = main().getByRole('region', { name: m('st_assessments_title') });
  await assessments.getByRole('link', { name: seed.assessments.quiz.title }).waitFor();
  assert.equal(
    await assessments.getByRole('link', { name: seed.assessments.quiz.title }).getAttribute('href'),
    `/courses/${course.id}/assessments/${seed.assessments.quiz.id}`,
  );
  await audit('course', { fullPage: true });
  w.assertClean('the course page');
});

test('a page: sanitised HTML, the table of contents and its anchors', { timeout: 60_000 }, async () => {
  const overview = seed.items.overview;
  await main().getByRole('region', { name: m('st_outline_title') }).getByRole('link', { name: overview.title }).click();
  await h1(overview.title).waitFor();
  const body = main().locator('.page-body');
  await body.locator('h2, h3').first().waitFor();

  // What reached the DOM: no script, no event handler, and every heading of the table of contents by its id.
  const found = await body.evaluate((el) => ({
    scripts: el.querySelectorAll('script, iframe, object, embed').length,
    handlers: Array.from(el.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
    ids: Array.from(el.querySelectorAll('h2[id], h3[id], h4[id]')).map((h) => h.id),
    h1s: document.querySelectorAll('h1').length,
  }));
  assert.equal(found.scripts, 0);
  assert.equal(found.handlers, 0);
  assert.equal(found.h1s, 1, 'the item title is the one h1; the page headings sit below it');
  for (const h of overview.toc) assert.ok(found.ids.includes(h.anchor), `heading ${h.anchor} keeps its id`);

  // The table of contents: a link lands on its section.
  const toc = main().getByRole('navigation', { name: m('st_toc') });
  const target = overview.toc[overview.toc.length - 3];
  await toc.getByRole('link', { name: target.text, exact: true }).click();
  await page.waitForURL((u) => u.hash === `#${target.anchor}`);
  const landed = await page.evaluate((id) => {
    const el = document.getElementById(id);
    const r = el.getBoundingClientRect();
    return { target: el.matches(':target'), top: r.top, height: window.innerHeight };
  }, target.anchor);
  assert.ok(landed.target, 'the heading is the :target');
  assert.ok(landed.top >= -1 && landed.top < landed.height / 2, `the section is at the top of the window: ${JSON.stringify(landed)}`);

  // Opening a page completes it (its rule is `viewed`).
  await main().getByText(m('st_item_done')).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await audit('page');
  w.assertClean('the page reader');
});

test('the tutor answers with a citation that leads to the cited section', { timeout: 90_000 }, async () => {
  const cited = seed.tutor.citation;
  await page.getByRole('navigation', { name: m('st_breadcrumbs') }).getByRole('link', { name: course.title }).click();
  await h1(course.title).waitFor();
  const tutor = main().getByRole('region', { name: m('st_tutor_title') });
  await tutor.getByLabel(m('st_tutor_question')).fill(seed.tutor.question);
  await tutor.getByRole('button', { name: m('st_tutor_ask') }).click();

  const turn = tutor.getByRole('listitem').filter({ hasText: seed.tutor.question }).last();
  const source = `${cited.itemTitle} › ${cited.section}`;
  // The answer may refer to [1] more than once: each is a link to the source.
  const cite = turn.getByRole('link', { name: m('st_tutor_cite_label', { n: 1, source }) }).first();
  await cite.waitFor();
  assert.equal(await cite.getAttribute('href'), `/courses/${course.id}/items/${cited.item}#${cited.anchor}`);
  await turn.getByRole('link', { name: source, exact: true }).waitFor();

  // Something the material does not cover: declined, and said so.
  await tutor.getByLabel(m('st_tutor_question')).fill(seed.tutor.offTopic);
  await tutor.getByRole('button', { name: m('st_tutor_ask') }).click();
  await tutor.getByRole('listitem').filter({ hasText: seed.tutor.offTopic }).getByText(m('st_tutor_refused_not_found')).waitFor();
  await audit('tutor', { fullPage: true });

  // Following the citation: the cited page, scrolled to the cited section, which has the focus.
  await cite.click();
  await page.waitForURL((u) => u.pathname === `/courses/${course.id}/items/${cited.item}` && u.hash === `#${cited.anchor}`);
  await page.waitForFunction((id) => document.activeElement?.id === id, cited.anchor);
  const at = await page.evaluate((id) => {
    const el = document.getElementById(id);
    return { top: el.getBoundingClientRect().top, height: window.innerHeight, cited: el.classList.contains('cited'), text: el.textContent };
  }, cited.anchor);
  assert.ok(at.cited, 'the cited section is marked');
  assert.ok(at.top >= -1 && at.top < at.height / 2, `the cited section is in view: ${JSON.stringify(at)}`);
  assert.equal(at.text.trim(), cited.section.split(' › ').pop());
  w.assertClean('asking the tutor and following a citation');
});

test('the tutor is unavailable while an exam attempt is open', { timeout: 60_000 }, async () => {
  // An attempt of the timed check, opened through the API (as the exam page would), then submitted.
  const timed = seed.assessments.timed;
  const attempt = await api('POST', `/api/v1/assessments/${timed.id}/attempts`, { client_request_id: 'student-test-tutor-pause' });
  try {
    await page.goto(`/courses/${course.id}`);
    await h1(course.title).waitFor();
    const tutor = main().getByRole('region', { name: m('st_tutor_title') });
    await tutor.getByLabel(m('st_tutor_question')).fill(seed.tutor.question);
    await tutor.getByRole('button', { name: m('st_tutor_ask') }).click();
    const turn = tutor.getByRole('listitem').filter({ hasText: m('st_tutor_refused_exam') });
    await turn.waitFor();
    await turn.getByText(m('st_tutor_unavailable')).waitFor();
    assert.equal(await turn.getByRole('link').count(), 0, 'no citations while the exam is open');
  } finally {
    await api('POST', `/api/v1/assessments/${timed.id}/attempts/${attempt.id}/submit`);
  }
  w.assertClean('the tutor during an exam');
});

test('the video loads, plays and seeks with range requests', { timeout: 60_000 }, async () => {
  const lecture = seed.items.lecture;
  const ranges = [];
  const onResponse = (r) => {
    if (new URL(r.url()).pathname === lecture.url) ranges.push({ status: r.status(), range: r.request().headers().range });
  };
  page.on('response', onResponse);
  try {
    await page.goto(`/courses/${course.id}/items/${lecture.id}`);
    await h1(lecture.title).waitFor();
    const video = main().locator('video');
    await video.waitFor();
    const duration = await video.evaluate(
      (v) =>
        new Promise((resolve, reject) => {
          if (v.readyState >= 1) resolve(v.duration);
          v.addEventListener('loadedmetadata', () => resolve(v.duration), { once: true });
          v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
        }),
    );
    assert.ok(Math.abs(duration - lecture.seconds) < 0.5, `duration ${duration}`);

    // Play a moment (muted: no user gesture here), then seek.
    const played = await video.evaluate(async (v) => {
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 600));
      v.pause();
      return v.currentTime;
    });
    assert.ok(played > 0, `playback advanced: ${played}`);
    const seeked = await video.evaluate(
      (v) =>
        new Promise((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 6.2;
        }),
    );
    assert.ok(Math.abs(seeked - 6.2) < 0.3, `seeked to ${seeked}`);
    // The captions: two tracks in the player's menu; the default one is showing, its cues loaded
    // from the WebVTT course media, and the cue at 6.2 s is the second one.
    const tracks = await video.evaluate(
      (v) =>
        new Promise((resolve, reject) => {
          const el = v.querySelector('track[default]');
          const read = () =>
            resolve({
              list: [...v.textTracks].map((t) => ({ label: t.label, lang: t.language, mode: t.mode })),
              active: [...(el.track.activeCues ?? [])].map((c) => c.text),
            });
          if (el.readyState === 2) read();
          el.addEventListener('load', read, { once: true });
          el.addEventListener('error', () => reject(new Error('the captions track failed to load')), { once: true });
        }),
    );
    assert.deepEqual(tracks.list, [
      { label: 'English', lang: 'en', mode: 'showing' },
      { label: 'Français', lang: 'fr', mode: 'disabled' },
    ]);
    assert.deepEqual(tracks.active, ['The plant makes sugar.']);
    assert.ok(
      ranges.some((r) => r.status === 206 && r.range),
      `the media was fetched by byte ranges answered with 206: ${JSON.stringify(ranges)}`,
    );
    await main().getByRole('link', { name: m('st_download_video') }).waitFor();
    await audit('video');
  } finally {
    page.off('response', onResponse);
  }
  w.assertClean('the video');
});

test('the file downloads; the link is completed by hand', { timeout: 60_000 }, async () => {
  const summary = seed.items.summary;
  await page.goto(`/courses/${course.id}/items/${summary.id}`);
  await h1(summary.title).waitFor();
  const download = main().getByRole('link', { name: /^Download / });
  // The course hands the reader a signed URL for its file (the bare path is not served).
  const href = new URL(await download.getAttribute('href'), 'http://lectern.invalid');
  assert.equal(href.pathname, summary.url);
  assert.ok(href.searchParams.get('m') && href.searchParams.get('s'), `a signed URL: ${href}`);
  assert.notEqual(await download.getAttribute('download'), null);

  const reading = seed.items.reading;
  await main().getByRole('navigation', { name: m('st_prev_next') }).getByRole('link', { name: new RegExp(reading.title) }).click();
  await h1(reading.title).waitFor();
  const out = main().getByRole('link', { name: m('st_open_link', { url: reading.url }) });
  assert.equal(await out.getAttribute('href'), reading.url);
  assert.equal(await out.getAttribute('rel'), 'noopener noreferrer');
  const done = main().getByRole('button', { name: m('st_mark_complete') });
  if (await done.count()) {
    await done.click();
    await main().getByText(m('st_item_done')).waitFor();
  }
  await main().getByText(m('st_completed'), { exact: true }).first().waitFor();
  await audit('link');
  w.assertClean('the file and the link');
});

test('grades: every course at a glance, then questions with feedback and explanations', { timeout: 60_000 }, async () => {
  const warmup = seed.assessments.warmup;
  const grade = warmup.grades.find((g) => g.student === student.id);
  await nav().getByRole('link', { name: m('nav_grades') }).click();
  await h1(m('st_grades_title')).waitFor();
  const card = main().getByRole('region', { name: course.title });
  const row = card.getByRole('row').filter({ hasText: warmup.title });
  await row.getByText(m('st_points_of', { points: grade.points, max: grade.maxPoints }), { exact: false }).waitFor();
  await row.getByText(m('st_status_graded')).waitFor();
  await audit('grades');

  await card.getByRole('link', { name: m('st_feedback_link', { course: course.title }) }).click();
  await h1(m('st_course_grades_title', { course: course.title })).waitFor();
  const detail = main().getByRole('region', { name: warmup.title });
  for (const q of warmup.questions) await detail.getByText(q.prompt, { exact: true }).waitFor();
  const first = detail.getByRole('listitem').filter({ hasText: warmup.questions[0].prompt });
  await first.getByText(`${m('st_your_answer')} ${warmup.questions[0].labels.green}`).waitFor();
  await first.getByText(m('st_explanation')).click();
  assert.ok((await first.locator('details li').count()) > 0, 'the grader explains the points');
  await audit('course-grades', { fullPage: true });
  w.assertClean('the grades');
});

test('credentials: JSON download, the public page, verification', { timeout: 60_000 }, async () => {
  await nav().getByRole('link', { name: m('nav_credentials') }).click();
  await h1(m('st_credentials_title')).waitFor();
  const card = main().getByRole('article', { name: seed.credential.achievement });
  assert.equal(await card.getByRole('link', { name: m('st_cred_public_page') }).getAttribute('href'), seed.credential.url);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card.getByRole('button', { name: m('st_cred_download') }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `credential-${seed.credential.id}.json`);
  const vc = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(vc.credentialSubject.achievement.name, seed.credential.achievement);
  assert.ok(vc.proof, 'the download is the signed credential');

  await card.getByRole('button', { name: m('st_cred_verify') }).click();
  await card.getByText(m('st_cred_verified')).waitFor();
  await audit('credentials');
  w.assertClean('the credentials');
});

test('notifications: mark one read, preferences saved and kept', { timeout: 60_000 }, async () => {
  await nav().getByRole('link', { name: m('nav_notifications') }).click();
  await h1(m('nav_notifications')).waitFor();
  const inbox = main().getByRole('region', { name: m('st_inbox') });
  // The inbox loads after the heading: wait for its first unread entry before counting.
  await inbox.getByRole('button', { name: m('st_mark_read') }).first().waitFor({ timeout: 10_000 }).catch(() => {});
  const unreadBefore = await inbox.getByRole('button', { name: m('st_mark_read') }).count();
  assert.ok(unreadBefore > 0, 'the seed left unread notifications');
  await audit('notifications', { fullPage: true });
  await inbox.getByRole('button', { name: m('st_mark_read') }).first().click();
  await inbox.getByRole('status').filter({ hasText: unreadBefore - 1 === 0 ? m('st_notifications_none_unread') : mp('st_unread_count', unreadBefore - 1) }).waitFor();

  const prefs = main().getByRole('region', { name: m('st_prefs_title') });
  const kind = messages('en').st_kind_grade_recorded;
  const email = prefs.getByRole('checkbox', { name: m('st_prefs_email_for', { kind }) });
  const before = await email.isChecked();
  await email.setChecked(!before);
  await prefs.getByRole('button', { name: m('save') }).click();
  await prefs.getByRole('status').filter({ hasText: m('st_prefs_saved') }).waitFor();
  const stored = await api('GET', '/api/v1/me/notification-preferences');
  assert.equal(stored.kinds['grade.recorded'].email, !before);
  await page.reload();
  await h1(m('nav_notifications')).waitFor();
  assert.equal(await main().getByRole('checkbox', { name: m('st_prefs_email_for', { kind }) }).isChecked(), !before);
  w.assertClean('the notifications');
});
