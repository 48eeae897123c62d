import { createReadStream, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/*
 * Content-Security-Policy of the served app (dev server and `vite preview`; a production host
 * must send the same header, see `cspHeader` below).
 *
 * The dump never leaves the machine (DESIGN.md), so the policy is strict:
 *  - default-src 'self': every asset comes from the app's origin; no CDN, no fonts from afar.
 *  - connect-src 'self' blob:: the only network reads are the app's own assets and, when the
 *    user asks, HTTP Range reads of a dump URL *on the same origin*. A CSP sent as a header
 *    (or a <meta>) cannot be widened at run time, and a wildcard like `connect-src http: https:`
 *    would let any compromised script ship memory contents anywhere. So open-by-URL accepts
 *    same-origin URLs only (`?src=/dumps/x.vmcore` or the "Open URL" box); a dump on another
 *    server must be proxied through the app's origin (e.g. a reverse-proxy location that
 *    supports Range) or downloaded and dropped on the page. The UI says this before trying.
 *    ws: for Vite's HMR in dev is same-origin and matched by 'self' (CSP3).
 *  - script-src 'self' 'wasm-unsafe-eval': capstone (disassembler), the LZO page decoder (lzo.wat) and the table loops (bulk.wat) are WebAssembly; no eval.
 *    In dev only, plugin-react injects one inline preamble <script>; Vite stamps it with the
 *    nonce below (html.cspNonce) so the dev policy stays free of 'unsafe-inline' for scripts.
 *  - worker-src 'self' blob:: the engine worker, Monaco's editor and TypeScript workers, and the
 *    Script panel's runs: each is a module worker from a blob: URL whose module imports the
 *    bundled runtime (workers/scriptworker.ts) and holds the user's script as its code. That is
 *    not eval: the worker inherits this policy (no eval/new Function in it either, imports from
 *    'self' only, connect-src as below) and has no DOM; Cancel terminates it.
 *  - style-src 'self' 'unsafe-inline': Monaco and Vite's dev CSS injection set inline styles.
 *  - img-src/font-src 'self' data: blob:: Monaco's codicon font and canvas snapshots.
 *  - object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'.
 *
 * Cross-origin isolation (COOP same-origin + COEP require-corp) is on too: it gives the page
 * SharedArrayBuffer, which the UI uses to cancel a long command while the engine worker is busy
 * running it (the worker checks a shared flag; a postMessage would wait behind the command).
 * Everything the app loads is same-origin, so require-corp costs nothing.
 */
const devNonce = randomBytes(16).toString('base64');

function cspHeader(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval'${dev ? ` 'nonce-${devNonce}'` : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

function securityHeaders(dev: boolean): Record<string, string> {
  return {
    'Content-Security-Policy': cspHeader(dev),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

/*
 * HTTP Range for the sample dumps. The engine reads a dump URL with synchronous XHR + Range and
 * needs 206 answers with Content-Range. Vite serves public/ with sirv, which does answer Range,
 * but this middleware makes it explicit and independent of Vite internals for the dump files
 * (public/samples/**): single ranges, 206 / 416, Accept-Ranges, no compression, no caching
 * surprises. Other files fall through to Vite.
 */
function rangeMiddleware(publicDir: string): Connect.NextHandleFunction {
  const root = normalize(publicDir) + sep;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/samples/')) return next();
    let path: string;
    try {
      path = normalize(join(root, decodeURIComponent(url.pathname)));
    } catch {
      return next();
    }
    if (!path.startsWith(root)) return next();
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return next();
      size = st.size;
    } catch {
      return next();
    }
    // Only the binary dumps: text (READMEs, oracle) is small and Vite serves it fine.
    if (!/\/vmcore[^/]*$/.test(url.pathname)) return next();
    for (const [k, v] of Object.entries(securityHeaders(false))) {
      if (k !== 'Content-Security-Policy') res.setHeader(k, v);
    }
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Cache-Control', 'no-cache');
    const range = req.headers.range;
    let start = 0;
    let end = size - 1;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        return res.end();
      }
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        return res.end();
      }
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    } else {
      res.statusCode = 200;
    }
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD') return res.end();
    createReadStream(path, { start, end }).pipe(res);
  };
}

function rangePlugin(): Plugin {
  let publicDir = 'public';
  return {
    name: 'vmcore:range',
    configResolved(c) {
      publicDir = c.publicDir;
    },
    configureServer(server) {
      server.middlewares.use(rangeMiddleware(publicDir));
    },
    configurePreviewServer(server) {
      server.middlewares.use(rangeMiddleware(publicDir));
    },
  };
}

export default defineConfig(({ command }) => {
  const dev = command === 'serve';
  return {
    plugins: [react(), rangePlugin()],
    resolve: {
      alias: [
        // libzstd's wasm for the workers (workers/worker.ts imports it `?url`); the package's
        // "exports" name its JavaScript entries only
        { find: /^zstd-wasm-file(?=\?|$)/, replacement: fileURLToPath(new URL('node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm', import.meta.url)) },
      ],
    },
    html: dev ? { cspNonce: devNonce } : undefined,
    worker: { format: 'es' },
    server: {
      host: '127.0.0.1',
      headers: securityHeaders(true),
      // do not rebuild when the engine engineers' test output or dumps change
      watch: { ignored: ['**/public/samples/**', '**/test-results/**', '**/bench/out/**'] },
    },
    preview: {
      host: '127.0.0.1',
      headers: securityHeaders(false),
    },
    build: {
      target: 'es2022',
      sourcemap: true,
      chunkSizeWarningLimit: 4096,
    },
    // Pre-bundle every dependency up front, the engine worker's and the lazily loaded panels'
    // too: a dependency discovered later (when the worker first imports fflate, or the console
    // first loads Monaco) makes the dev server re-optimize and reload the page, and a dump opened
    // in that page is gone. The worker is an entry so the scan sees its imports.
    optimizeDeps: {
      entries: ['index.html', 'workers/worker.ts', 'workers/scriptworker.ts', 'app/panels/Console/monacoInput.ts', 'app/panels/Script/scriptEditor.ts'],
      include: [
        'react',
        'react-dom/client',
        'zustand',
        'comlink',
        'fflate',
        'fzstd',
        'snappyjs',
        'capstone-wasm',
        'd3-hierarchy',
        'd3-scale',
        'd3-selection',
        'd3-zoom',
        'monaco-editor/editor',
      ],
    },
  };
});
