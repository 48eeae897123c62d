/**
 * The engine's Web Worker entry: exposes one EngineApi (workers/api.ts) over comlink.
 * The UI creates it with `new Worker(new URL('../workers/worker.ts', import.meta.url), { type: 'module' })`.
 */
import { expose } from 'comlink';
import { EngineApi } from './api';

expose(new EngineApi());
