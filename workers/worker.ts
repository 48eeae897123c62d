/**
 * The engine's Web Worker entry: exposes one EngineApi (workers/api.ts) over comlink.
 * The UI creates it (the engine worker, and the scan workers of long scans) with `new Worker(new URL('../workers/worker.ts', import.meta.url), { type: 'module' })`.
 */
import { expose } from 'comlink';
import { EngineApi, warmAlso } from './api';
import { initDisassembler } from './analysis/disasm';
import { setNativeZstd } from './format/codecs/zstd';
import { zstdWasmDecoder } from './format/codecs/zstd-wasm';
import zstdWasmUrl from 'zstd-wasm-file?url'; // vite.config.ts: @bokuweb/zstd-wasm's zstd.wasm

/**
 * libzstd's wasm for zstd pages (zstd-wasm.ts), fetched and compiled while the user picks a dump
 * (the app's warm() waits for it); a zstd page read before it is in goes through fzstd, and so do
 * all of them when it cannot load (said on the console and in the dump summary's decoder).
 */
function loadZstd(): Promise<void> {
  let module: WebAssembly.Module | null | undefined;
  setNativeZstd(() => (module === undefined ? undefined : module && zstdWasmDecoder(module)));
  return fetch(zstdWasmUrl)
    .then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status} for ${zstdWasmUrl}`);
      return r.arrayBuffer();
    })
    .then((b) => WebAssembly.compile(b))
    .then(
      (m) => {
        module = m;
      },
      (e) => {
        module = null;
        console.warn(`zstd wasm unavailable (${e instanceof Error ? e.message : e}): zstd pages are decoded by fzstd`);
      },
    );
}

warmAlso(loadZstd());
// capstone's wasm loads asynchronously once, while the user picks a dump; `dis` is synchronous after.
// Scan workers (app/engine.ts's pool, named vmcore-scan-N) run split scans only: no disassembler.
if (!/^vmcore-scan/.test((self as { name?: string }).name ?? '')) void initDisassembler().catch((e) => console.warn(`disassembler unavailable: ${e instanceof Error ? e.message : e}`));

expose(new EngineApi());
