/**
 * Monaco's web workers, for every editor of the app (the console's command line, the Script
 * panel): the TypeScript/JavaScript language service runs in its own worker, everything else in
 * the editor worker. Both are bundled same-origin workers (worker-src 'self'; no CDN).
 * Imported by each Monaco module before it creates an editor; the last import wins, so there is
 * one definition only.
 */
import type * as monaco from 'monaco-editor/editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import TsWorker from 'monaco-editor/languages/features/typescript/ts.worker?worker';

declare global {
  interface Window {
    MonacoEnvironment?: monaco.Environment;
  }
}

self.MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'typescript' || label === 'javascript' ? new TsWorker() : new EditorWorker()),
};
