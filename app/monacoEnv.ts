/**
 * Monaco's web workers, for every editor of the app (the console's command line, the Script
 * panel): the TypeScript/JavaScript language service runs in its own worker, everything else in
 * the editor worker. Both are bundled same-origin workers (worker-src 'self'; no CDN).
 * Imported by each Monaco module before it creates an editor (a module: it runs once).
 */
import type * as monaco from 'monaco-editor/editor';
// The JS/TS language mode (loaded by Monaco on first use of 'javascript') brings every editor
// contribution and the services they need; registered after the first editor exists, those
// services are unknown to it ("depends on UNKNOWN service ICodeLensCache"). So they are loaded here,
// before any editor of the app is created. treeViewsDndService: needed by drop-into-editor and
// imported by nothing else.
import 'monaco-editor/languages/features/typescript/tsMode';
import 'monaco-editor/editor/common/services/treeViewsDndService';
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
