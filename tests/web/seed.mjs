// Seeds a fresh Lectern server with a realistic dataset for the browser tests, through the public
// HTTP API only (what a third party could do too), and returns every id and credential the tests
// need as one JSON-serialisable object.
//
//   node tests/web/seed.mjs http://127.0.0.1:8111 lbt_…   # prints the JSON
//
// or, from a test runner:
//
//   import { seed } from './seed.mjs';
//   const data = await seed('http://127.0.0.1:8111', { bootstrapToken });
//
// Run it once per fresh server: it redeems the one-time bootstrap token and creates fixed slugs,
// emails and course codes, so a second run fails (loudly) at the first step. Any non-2xx answer
// fails with the API's problem document.
//
// What it makes (see the returned object for ids):
// - the platform administrator (bootstrap), institution `northfield` ("Northfield College") with
//   an administrator, a teacher and two students, one with a non-ASCII name;
// - course BIO-110 "Plant Biology", published, teacher and students enrolled, the tutor on and its
//   index built: week 1 has two Markdown pages (one long, with h2/h3 sections), a video with
//   seekable frames, a PDF, a link completed by hand, the proctored quiz, the timed check and the
//   warm-up; week 2 has a page locked behind the quiz, the upcoming unit test locked behind that
//   page, and a page released in two weeks (hidden until then);
// - the proctored quiz "Photosynthesis quiz" with a question of every type, hints with a penalty,
//   an open window; the timed "Calvin cycle check" (60 s); the warm-up, taken and graded for both
//   students (grades, feedback, notifications), and the course's completion rule on it, met by the
//   first student only (a credential); the unit test, published, opening in three days.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import {
  FERMENTATION,
  OVERVIEW,
  PIGMENTS,
  QUIZ_QUESTIONS,
  RESPIRATION,
  TIMED_QUESTIONS,
  UNIT_TEST_QUESTIONS,
  WARMUP_QUESTIONS,
  summaryPdf,
} from './course.mjs';

export const PASSWORD = 'correct horse battery staple';

/** The timed check's limit: short, so a test waits for the deadline, long enough to load the page. */
export const TIMED_LIMIT_SECS = 60;

const VIDEO = new URL('./fixtures/photosynthesis.webm', import.meta.url);

/** A failed API call: the method, path, status and the problem document, all in the message. */
export class ApiFailure extends Error {
  constructor(method, path, status, problem) {
    super(`${method} ${path} → ${status}\n${typeof problem === 'string' ? problem : JSON.stringify(problem, null, 2)}`);
    this.status = status;
    this.problem = problem;
  }
}

/** A small JSON client: one base URL, an optional bearer token, failure on any non-2xx. */
class Api {
  constructor(base, token) {
    this.base = base;
    this.token = token;
  }

  as(token) {
    return new Api(this.base, token);
  }

  /**
   * One request. `json` is sent as JSON; `body` as is with `type`. Returns the parsed body (or
   * null) and the response; throws ApiFailure on a non-2xx status.
   */
  async send(method, path, { json, body, type, headers = {} } = {}) {
    const h = { accept: 'application/json', ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let payload = body;
    if (json !== undefined) {
      h['content-type'] = 'application/json';
      payload = JSON.stringify(json);
    } else if (type) {
      h['content-type'] = type;
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!res.ok) throw new ApiFailure(method, path, res.status, data);
    return { data, res };
  }

  async get(path) {
    return (await this.send('GET', path)).data;
  }
  async post(path, json = {}) {
    return (await this.send('POST', path, { json })).data;
  }
  async put(path, json) {
    return (await this.send('PUT', path, { json })).data;
  }
  async patch(path, json) {
    return (await this.send('PATCH', path, { json })).data;
  }
}

/** Polls `probe` every 250 ms until it returns something other than undefined, for up to `secs`. */
async function until(what, secs, probe) {
  const deadline = Date.now() + secs * 1000;
  let last;
  for (;;) {
    last = await probe();
    if (last !== undefined && last !== false && last !== null) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${secs} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const inHours = (h) => iso(new Date(Date.now() + h * 3_600_000));

/** Signs in with a password; returns an Api carrying the bearer token and the signed-in user. */
async function login(api, institution, email, password) {
  const r = await api.post('/api/v1/auth/login', { institution, email, password });
  return { api: api.as(r.access_token), user: r.user };
}

/** Creates an assessment from course.mjs questions and publishes it; returns the staff view. */
async function assessment(teacher, course, { title, questions, settings }) {
  const created = await teacher.post(`${course}/assessments`, {
    title,
    questions: questions.map((q) => q.question),
    settings,
  });
  return teacher.patch(`/api/v1/assessments/${created.id}`, { published: true });
}

/** What a test needs of each question: id, type, prompt, labels, hints and a right answer. */
function describe(questions) {
  return questions.map(({ question: q, answer }) => ({
    id: q.id,
    type: Object.keys(q.key)[0],
    prompt: q.prompt,
    points: q.points,
    labels: q.labels ?? {},
    hints: q.hints ?? [],
    answer,
  }));
}

/** Takes an assessment as `student` with the given responses and submits; returns the attempt id. */
async function takeAssessment(student, assessmentId, responses, requestId) {
  const base = `/api/v1/assessments/${assessmentId}`;
  const attempt = await student.post(`${base}/attempts`, { client_request_id: requestId });
  for (const [question, response] of Object.entries(responses)) {
    await student.put(`${base}/attempts/${attempt.id}/answers/${encodeURIComponent(question)}`, { response, version: 1 });
  }
  await student.post(`${base}/attempts/${attempt.id}/submit`);
  return attempt.id;
}

/**
 * Seeds the server at `baseUrl` (e.g. `http://127.0.0.1:8111`) with the one-time bootstrap token
 * from its log. `log` receives a line per step (default: nothing).
 */
export async function seed(baseUrl, { bootstrapToken, log = () => {} } = {}) {
  if (!bootstrapToken) throw new Error('seed needs the bootstrap token printed by `lectern serve`');
  const base = baseUrl.replace(/\/+$/, '');
  const anon = new Api(base);

  // ---- People ----
  log('bootstrap and institution');
  const platformAdmin = { institution: 'platform', email: 'root@lectern.test', password: PASSWORD, name: 'Platform Administrator' };
  const rootUser = await anon.post('/api/v1/bootstrap', {
    token: bootstrapToken,
    email: platformAdmin.email,
    name: platformAdmin.name,
    password: PASSWORD,
  });
  platformAdmin.id = rootUser.id;
  const root = (await login(anon, 'platform', platformAdmin.email, PASSWORD)).api;

  const institution = await root.post('/api/v1/institutions', { slug: 'northfield', name: 'Northfield College' });
  const slug = institution.slug;
  const person = (email, name, role) => ({ institution: slug, email, password: PASSWORD, name, role });
  const admin = person('registrar@northfield.test', 'Priya Raman', 'admin');
  admin.id = (await root.post(`/api/v1/institutions/${slug}/users`, { ...pick(admin), password: PASSWORD })).id;
  const adminApi = (await login(anon, slug, admin.email, PASSWORD)).api;

  const teacher = person('m.okafor@northfield.test', 'Margaret Okafor', 'staff');
  // The first student has a name well outside ASCII: accents, a stacked diacritic, a non-Latin script.
  const students = [
    person('amelie.nguyen@northfield.test', 'Amélie Nguyễn-Søndergård', 'member'),
    person('sam.carter@northfield.test', 'Sam Carter', 'member'),
  ];
  for (const p of [teacher, ...students]) {
    p.id = (await adminApi.post(`/api/v1/institutions/${slug}/users`, { ...pick(p), password: PASSWORD })).id;
  }
  const teacherApi = (await login(anon, slug, teacher.email, PASSWORD)).api;
  const studentApis = [];
  for (const s of students) studentApis.push((await login(anon, slug, s.email, PASSWORD)).api);

  // ---- The course ----
  log('course and enrolments');
  const courseRec = await adminApi.post(`/api/v1/institutions/${slug}/courses`, {
    code: 'BIO-110',
    title: 'Plant Biology',
    description: 'How plants capture light and turn it into food: photosynthesis, pigments and respiration.',
  });
  const course = `/api/v1/institutions/${slug}/courses/${courseRec.id}`;
  await adminApi.post(`${course}/enrolments`, { user_id: teacher.id, role: 'instructor' });
  for (const s of students) await teacherApi.post(`${course}/enrolments`, { user_id: s.id, role: 'student' });
  await teacherApi.put(`${course}/tutor/policy`, { enabled: true, show_names: false });

  log('media');
  const upload = async (bytes, type, filename) =>
    (await teacherApi.send('POST', `${course}/media?filename=${encodeURIComponent(filename)}`, { body: bytes, type })).data;
  const video = await upload(await readFile(VIDEO), 'video/webm', 'photosynthesis-lecture.webm');
  const pdf = await upload(summaryPdf(), 'application/pdf', 'photosynthesis-summary.pdf');
  const captionsEn = await upload(
    Buffer.from('WEBVTT\n\n00:00.000 --> 00:04.000\nLight reaches the leaf.\n\n00:04.000 --> 00:08.000\nThe plant makes sugar.\n'),
    'text/vtt',
    'lecture.en.vtt',
  );
  const captionsFr = await upload(
    Buffer.from('WEBVTT\n\n00:00.000 --> 00:04.000\nLa lumière atteint la feuille.\n\n00:04.000 --> 00:08.000\nLa plante fabrique du sucre.\n'),
    'text/vtt',
    'lecture.fr.vtt',
  );

  // ---- Assessments ----
  log('assessments');
  const quiz = await assessment(teacherApi, course, {
    title: 'Photosynthesis quiz',
    questions: QUIZ_QUESTIONS,
    settings: {
      attempts_allowed: 2,
      grading_method: 'highest',
      opens_at: inHours(-24),
      closes_at: inHours(24 * 7),
      time_limit_secs: 45 * 60,
      per_hint: 0.25,
      max_penalty: 1,
      proctoring: {
        flag_threshold: 0.8,
        action: 'flag_for_review',
        allow_copy_paste: false,
        heartbeat_interval_ms: 5000,
        weights: { focus_lost: 0.3, visibility_hidden: 0.3, paste: 0.4, fullscreen_exit: 0.2 },
      },
    },
  });
  const timed = await assessment(teacherApi, course, {
    title: 'Calvin cycle check',
    questions: TIMED_QUESTIONS,
    settings: { attempts_allowed: 2, opens_at: inHours(-24), closes_at: inHours(24 * 3), time_limit_secs: TIMED_LIMIT_SECS },
  });
  const warmup = await assessment(teacherApi, course, {
    title: 'Warm-up: plants and light',
    questions: WARMUP_QUESTIONS,
    settings: { attempts_allowed: 1, opens_at: inHours(-48), closes_at: inHours(24) },
  });
  const unitTest = await assessment(teacherApi, course, {
    title: 'Unit test: respiration',
    questions: UNIT_TEST_QUESTIONS,
    settings: { attempts_allowed: 1, opens_at: inHours(24 * 3), closes_at: inHours(24 * 5), time_limit_secs: 20 * 60 },
  });

  // ---- The outline ----
  log('outline');
  const week1 = await teacherApi.post(`${course}/content/modules`, { id: 'week-1', title: 'Week 1: How plants make food' });
  const week2 = await teacherApi.post(`${course}/content/modules`, { id: 'week-2', title: 'Week 2: Releasing the energy' });
  void week1;
  void week2;
  const items = {};
  const add = async (module, key, body) => {
    items[key] = await teacherApi.post(`${course}/content/modules/${module}/items`, body);
  };
  await add('week-1', 'overview', { id: 'photosynthesis', kind: 'page', title: 'Photosynthesis: an overview', markdown: OVERVIEW });
  await add('week-1', 'pigments', { id: 'light-and-pigments', kind: 'page', title: 'Light and pigments', markdown: PIGMENTS });
  await add('week-1', 'lecture', { id: 'lecture', kind: 'video', title: 'Lecture: photosynthesis in eight seconds', media: video.sha256 });
  await teacherApi.put(`${course}/content/items/lecture/captions`, {
    tracks: [
      { media: captionsEn.sha256, lang: 'en', label: 'English', default: true },
      { media: captionsFr.sha256, lang: 'fr', label: 'Français' },
    ],
  });
  await add('week-1', 'summary', { id: 'summary-sheet', kind: 'file', title: 'Summary sheet (PDF)', media: pdf.sha256 });
  await add('week-1', 'reading', {
    id: 'further-reading',
    kind: 'link',
    title: 'Further reading: the Calvin cycle',
    url: 'https://en.wikipedia.org/wiki/Calvin_cycle',
    completion: { kind: 'manual' },
  });
  await add('week-1', 'warmup', { id: 'warm-up', kind: 'assessment', title: warmup.title, assessment: warmup.id });
  await add('week-1', 'quiz', { id: 'quiz', kind: 'assessment', title: quiz.title, assessment: quiz.id });
  await add('week-1', 'timed', { id: 'timed-check', kind: 'assessment', title: timed.title, assessment: timed.id });
  await add('week-2', 'respiration', {
    id: 'respiration',
    kind: 'page',
    title: 'Cellular respiration',
    markdown: RESPIRATION,
    prerequisites: [{ kind: 'scored_at_least', item: 'quiz', min: 0.5 }],
  });
  await add('week-2', 'unitTest', {
    id: 'unit-test',
    kind: 'assessment',
    title: unitTest.title,
    assessment: unitTest.id,
    prerequisites: [{ kind: 'completed', item: 'respiration' }],
  });
  await add('week-2', 'fermentation', {
    id: 'fermentation',
    kind: 'page',
    title: 'Fermentation',
    markdown: FERMENTATION,
    release_at: inHours(24 * 14),
  });

  await teacherApi.post(`${course}/publish`);
  // The course is complete once the warm-up is passed: the first student will, the second will not.
  await teacherApi.put(`${course}/completion-rule`, { required_items: [warmup.id], min_percent: 60 });

  // ---- The tutor's index ----
  log('tutor index');
  await teacherApi.post(`${course}/tutor/index`);
  const pageCount = Object.values(items).filter((i) => i.kind === 'page').length;
  const index = await until('the tutor index', 600, async () => {
    const s = await teacherApi.get(`${course}/tutor/index`);
    return s.pages === pageCount && s.indexed === pageCount && s.pending.length === 0 ? s : undefined;
  });
  // A question the material answers, with the citation a student should get (asked as the
  // teacher, who sees the same released pages here), and one it does not.
  const tutorQuestion = 'Where in the chloroplast does the Calvin cycle take place?';
  const turn = await teacherApi.post(`${course}/tutor/questions`, { question: tutorQuestion });
  if (turn.refusal || !turn.citations.length) {
    throw new Error(`the tutor did not answer the seeded question: ${JSON.stringify(turn)}`);
  }

  // ---- Activity: the warm-up taken by both students, graded by the plugin ----
  log('warm-up attempts and grades');
  const right = Object.fromEntries(WARMUP_QUESTIONS.map((q) => [q.question.id, q.answer]));
  // The second student gets one of three right (below the completion rule's 60 %).
  const mostlyWrong = Object.fromEntries(WARMUP_QUESTIONS.map((q, i) => [q.question.id, i === 0 ? q.answer : q.wrong]));
  const warmupAttempts = [
    await takeAssessment(studentApis[0], warmup.id, right, 'seed-warmup-0'),
    await takeAssessment(studentApis[1], warmup.id, mostlyWrong, 'seed-warmup-1'),
  ];
  const grades = [];
  for (const s of students) {
    grades.push(
      await until(`the warm-up grade of ${s.email}`, 60, async () => {
        const g = await teacherApi.get(`${course}/students/${s.id}/grades`);
        return g.items.find((i) => i.item === warmup.id);
      }),
    );
  }
  // The second student has read the overview already: progress and "continue" differ between them.
  await studentApis[1].get(`${course}/content/items/photosynthesis`);

  log('credential and notifications');
  const credential = await until('the first student’s credential', 60, async () => {
    const c = await studentApis[0].get('/api/v1/me/credentials');
    return c.items[0];
  });
  const notifications = [];
  for (const api of studentApis) {
    notifications.push(
      await until('a notification', 60, async () => {
        const n = await api.get('/api/v1/me/notifications');
        return n.items.length ? n.items : undefined;
      }),
    );
  }

  // ---- What the tests get ----
  const overviewPage = await teacherApi.get(`${course}/content/items/photosynthesis/page`);
  const pigmentsPage = await teacherApi.get(`${course}/content/items/light-and-pigments/page`);
  const itemSummary = (i) => ({ id: i.id, kind: i.kind, title: i.title });
  const citation = turn.citations[0];
  return {
    url: base,
    password: PASSWORD,
    platformAdmin,
    institution: { id: institution.id, slug, name: institution.name },
    admin,
    teacher,
    students,
    course: {
      id: courseRec.id,
      code: courseRec.code,
      title: courseRec.title,
      api: course,
      modules: [
        { id: 'week-1', title: 'Week 1: How plants make food' },
        { id: 'week-2', title: 'Week 2: Releasing the energy' },
      ],
      completionRule: { requiredItems: [warmup.id], minPercent: 60 },
    },
    items: {
      ...Object.fromEntries(Object.entries(items).map(([k, i]) => [k, itemSummary(i)])),
      overview: { ...itemSummary(items.overview), toc: overviewPage.toc, words: overviewPage.words },
      pigments: { ...itemSummary(items.pigments), toc: pigmentsPage.toc },
      lecture: { ...itemSummary(items.lecture), sha256: video.sha256, url: `/blobs/${video.sha256}`, contentType: video.content_type, size: video.size, seconds: 8 },
      summary: { ...itemSummary(items.summary), sha256: pdf.sha256, url: `/blobs/${pdf.sha256}`, contentType: pdf.content_type, size: pdf.size },
      reading: { ...itemSummary(items.reading), url: 'https://en.wikipedia.org/wiki/Calvin_cycle', completion: 'manual' },
      respiration: { ...itemSummary(items.respiration), locked: true, lockedBehind: 'quiz' },
      unitTest: { ...itemSummary(items.unitTest), locked: true, lockedBehind: 'respiration' },
      fermentation: { ...itemSummary(items.fermentation), releaseAt: items.fermentation.release_at, hiddenFromStudents: true },
    },
    assessments: {
      quiz: {
        id: quiz.id,
        item: 'quiz',
        title: quiz.title,
        settings: quiz.settings,
        perHint: quiz.settings.per_hint,
        proctored: true,
        maxPoints: QUIZ_QUESTIONS.reduce((s, q) => s + q.question.points, 0),
        questions: describe(QUIZ_QUESTIONS),
      },
      timed: {
        id: timed.id,
        item: 'timed-check',
        title: timed.title,
        timeLimitSecs: TIMED_LIMIT_SECS,
        settings: timed.settings,
        questions: describe(TIMED_QUESTIONS),
      },
      warmup: {
        id: warmup.id,
        item: 'warm-up',
        title: warmup.title,
        questions: describe(WARMUP_QUESTIONS),
        attempts: warmupAttempts,
        grades: grades.map((g) => ({ student: g.student, points: g.points, maxPoints: g.max_points, status: g.status })),
      },
      unitTest: { id: unitTest.id, item: 'unit-test', title: unitTest.title, opensAt: unitTest.settings.opens_at, closesAt: unitTest.settings.closes_at },
    },
    tutor: {
      model: index.model,
      passages: index.passages,
      question: tutorQuestion,
      citation: { item: citation.item, itemTitle: citation.item_title, section: citation.section, anchor: citation.anchor },
      offTopic: 'What is a good recipe for sourdough bread?',
    },
    credential: { student: students[0].id, id: credential.id, url: credential.url, achievement: courseRec.title },
    notifications: students.map((s, i) => ({ student: s.id, count: notifications[i].length, kinds: notifications[i].map((n) => n.kind) })),
  };
}

/** The fields `POST …/users` takes from a person. */
function pick(p) {
  return { email: p.email, name: p.name, role: p.role };
}

// CLI: node tests/web/seed.mjs URL TOKEN
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [url, token] = process.argv.slice(2);
  if (!url || !token) {
    console.error('usage: node tests/web/seed.mjs http://127.0.0.1:PORT BOOTSTRAP_TOKEN');
    process.exit(2);
  }
  const started = Date.now();
  seed(url, { bootstrapToken: token, log: (s) => console.error(`seed: ${s} (${((Date.now() - started) / 1000).toFixed(1)} s)`) }).then(
    (data) => console.log(JSON.stringify(data, null, 2)),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
