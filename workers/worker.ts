/**
 * The engine's Web Worker entry: exposes one EngineApi (workers/api.ts) over comlink.
 * The UI creates it (the engine worker, and the scan workers of long scans) with `new Worker(new URL('../workers/worker.ts', import.meta.url), { type: 'module' })`.
 */
import { expose } from 'comlink';
import { EngineApi } from './api';
import { initDisassembler } from './analysis/disasm';

// capstone's wasm loads asynchronously once, while the user picks a dump; `dis` is synchronous after.
// Scan workers (app/engine.ts's pool, named vmcore-scan-N) run split scans only: no disassembler.
if (!/^vmcore-scan/.test((self as { name?: string }).name ?? '')) void initDisassembler().catch((e) => console.warn(`disassembler unavailable: ${e instanceof Error ? e.message : e}`));

expose(new EngineApi());
