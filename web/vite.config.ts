import { defineConfig } from 'vite';

declare const process: { env: Record<string, string | undefined> };
const lectern = process.env.LECTERN_URL ?? 'http://127.0.0.1:8080';

// The app is served by `lectern serve` at `/` from web/dist (see ARCHITECTURE.md, "The web application").
// No inline script or style ends up in index.html: the Content-Security-Policy forbids both.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Inlined assets would become data: URLs; keep every asset a same-origin file.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    // `npm run dev` proxies the API to a local `lectern serve` (LECTERN_URL, default :8080).
    // `^/credentials/` (a regular expression): the app's own page `/credentials` is not the API's.
    proxy: Object.fromEntries(['/api', '/oauth', '/blobs', '^/credentials/'].map((p) => [p, lectern])),
  },
});
