// Runs the browser tests end to end on a fresh server, for development (the README's test
// command does the same from Rust): starts `lectern serve` in a new temporary data directory on a
// free port, reads the one-time bootstrap token it prints, seeds it (seed.mjs), then runs
// `node --test` on tests/web with LECTERN_URL and LECTERN_SEED set, and stops the server.
//
//   node tests/web/run.mjs --lectern target/debug/lectern              # every *.test.mjs
//   node tests/web/run.mjs --lectern /tmp/lectern-dev/lectern signin    # files whose name has "signin"
//   node tests/web/run.mjs --lectern … --port 8111 --web http://127.0.0.1:5181   # pages from Vite
//
// `--web URL` points the browser at another origin serving the pages: Vite's dev server, started
// with LECTERN_URL=http://127.0.0.1:8111 so it proxies /api there (hence the fixed `--port`);
// the server then accepts that origin with the session cookie (LECTERN_HTTP__CORS_ORIGINS).
// `--web-root DIR` passes LECTERN_HTTP__WEB_ROOT to the server. `--keep` keeps the data directory
// and the server's log.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seed } from './seed.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

function parseArgs(argv) {
  const opts = { lectern: process.env.LECTERN_BIN ?? fileURLToPath(new URL('../../target/debug/lectern', import.meta.url)), filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--lectern') opts.lectern = argv[++i];
    else if (a === '--web') opts.web = argv[++i];
    else if (a === '--web-root') opts.webRoot = argv[++i];
    else if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--keep') opts.keep = true;
    else opts.filters.push(a);
  }
  return opts;
}

/** A port nobody listens on right now (the OS picks it). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts the server; resolves with the child and its bootstrap token once it printed one. */
async function startServer(bin, dir, port, { webRoot, web }) {
  const env = { ...process.env, LECTERN_DATA_DIR: join(dir, 'data'), LECTERN_HTTP__LISTEN: `127.0.0.1:${port}` };
  if (webRoot) env.LECTERN_HTTP__WEB_ROOT = webRoot;
  // Pages from another origin (Vite) send its `Origin`: the server must accept it with the cookie.
  if (web) env.LECTERN_HTTP__CORS_ORIGINS = JSON.stringify([new URL(web).origin]);
  const child = spawn(bin, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const logPath = join(dir, 'lectern.log');
  let found;
  const seen = new Promise((resolve) => (found = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      log += chunk;
      const m = /\b(lbt_[A-Za-z0-9_-]+)/.exec(log);
      if (m) found(m[1]);
    });
  }
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`lectern serve exited (${code}) before it was ready; log:\n${log}`))),
  );
  exited.catch(() => {}); // only awaited below, while starting
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no bootstrap token after 120 s; log:\n${log}`)), 120_000);
  });
  const token = await Promise.race([seen, exited, late]).finally(() => clearTimeout(timer));
  const flush = () => writeFile(logPath, log).catch(() => {});
  return { child, token, flush, logPath };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'lectern-web-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  console.error(`lectern serve: ${url}, data in ${dir}`);
  const server = await startServer(opts.lectern, dir, port, opts);
  let code = 1;
  try {
    const started = Date.now();
    const data = await seed(url, { bootstrapToken: server.token });
    const seedPath = join(dir, 'seed.json');
    await writeFile(seedPath, JSON.stringify(data, null, 2));
    console.error(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${seedPath}`);

    const files = (await readdir(here))
      .filter((f) => f.endsWith('.test.mjs'))
      .filter((f) => !opts.filters.length || opts.filters.some((x) => f.includes(x)))
      .map((f) => join(here, f));
    if (!files.length) throw new Error(`no test file matches ${opts.filters.join(', ')}`);
    const env = { ...process.env, LECTERN_URL: opts.web ?? url, LECTERN_SEED: seedPath };
    const node = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { env, stdio: 'inherit' });
    code = await new Promise((resolve) => node.once('exit', (c) => resolve(c ?? 1)));
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
    await server.flush();
    if (opts.keep || code !== 0) console.error(`server log: ${server.logPath}`);
    if (!opts.keep && code === 0) await rm(dir, { recursive: true, force: true });
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
