/**
 * The Script panel's editor: Monaco with the JavaScript language service (TypeScript's, in its own
 * worker: app/monacoEnv.ts) over the open dump's kernel.d.ts (workers/script/dts.ts, generated
 * from its BTF), so `task.` completes task_struct's members with their C types and a typo is
 * underlined before the script runs. Scripts are JavaScript function bodies (checkJs on): a
 * top-level `return` is allowed (TS1108 ignored), and the libraries are ES2023 only: a script has
 * no DOM. Loaded on demand: the app starts without Monaco.
 */
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/parameterHints/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/languages/definitions/javascript/register';
import { getJavaScriptWorker, javascriptDefaults } from 'monaco-editor/languages/features/typescript/register';
import '../../monacoEnv';

/** The kernel.d.ts now in the language service, by dump fingerprint (one dump's types at a time). */
let dtsFor = '';
let dtsLib: monaco.IDisposable | null = null;
let configured = false;

function configure(): void {
  if (configured) return;
  configured = true;
  javascriptDefaults.setCompilerOptions({
    target: 99, // ESNext
    lib: ['es2023'],
    allowJs: true,
    checkJs: true,
    allowNonTsExtensions: true,
    noEmit: true,
    strict: false,
  });
  // 1108: "A 'return' statement can only be used within a function body" (a script is one)
  javascriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false, diagnosticCodesToIgnore: [1108] });
  javascriptDefaults.setEagerModelSync(true);
  // the worker's console (runner.ts passes print as console.log/info/warn/error); no DOM, no timers
  javascriptDefaults.addExtraLib(
    'declare const console: { log(...values: unknown[]): void; info(...values: unknown[]): void; warn(...values: unknown[]): void; error(...values: unknown[]): void };\n',
    'file:///script-globals.d.ts',
  );
  monaco.editor.defineTheme('vmcore-script', {
    base: 'vs-dark',
    inherit: true,
    rules: [],
    colors: { 'editor.background': '#0f1115' },
  });
}

/** Put a dump's declarations into the language service (replacing another dump's). */
export function setKernelTypes(fingerprint: string, dts: string): void {
  configure();
  if (dtsFor === fingerprint) return;
  dtsLib?.dispose();
  dtsLib = javascriptDefaults.addExtraLib(dts, `file:///kernel-${fingerprint}.d.ts`);
  dtsFor = fingerprint;
}

/**
 * Have the language service read the declarations now (parse and bind the few MB of kernel.d.ts
 * in its worker) rather than at the first completion: resolves when it has checked the script.
 */
export async function warmTypes(): Promise<void> {
  const uri = monaco.Uri.parse('file:///script.js');
  const get = await getJavaScriptWorker();
  const w = await get(uri);
  await w.getSemanticDiagnostics(uri.toString());
}

export interface ScriptEditor {
  getValue(): string;
  setValue(v: string): void;
  focus(): void;
  /** put the cursor on a script line (an error's) and mark it */
  showLine(line: number, column: number | undefined, message: string): void;
  clearMarks(): void;
  /** the first syntax or type error the language service reports, if any */
  firstError(): { line: number; column: number; message: string } | null;
  /** the first syntax error of the text now in the editor (TypeScript's parser, in its worker) */
  syntaxError(): Promise<{ line: number; column: number; message: string } | null>;
  dispose(): void;
}

export function createScriptEditor(
  el: HTMLElement,
  opts: { value: string; onChange(v: string): void; onRun(): void },
): ScriptEditor {
  configure();
  const uri = monaco.Uri.parse('file:///script.js');
  monaco.editor.getModel(uri)?.dispose();
  const model = monaco.editor.createModel(opts.value, 'javascript', uri);
  const ed = monaco.editor.create(el, {
    model,
    theme: window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'vs' : 'vmcore-script',
    minimap: { enabled: false },
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    fontSize: 13,
    lineHeight: 19,
    automaticLayout: true,
    scrollBeyondLastLine: false,
    tabSize: 2,
    fixedOverflowWidgets: true,
    quickSuggestions: { other: true, comments: false, strings: false },
    suggestOnTriggerCharacters: true,
    wordBasedSuggestions: 'off',
    ariaLabel: 'script',
    renderValidationDecorations: 'on',
  });
  const decorations = ed.createDecorationsCollection();
  model.onDidChangeContent(() => {
    decorations.clear();
    monaco.editor.setModelMarkers(model, 'vmcore-run', []);
    opts.onChange(model.getValue());
  });
  // bound for this editor only (a command added to an editor is bound for every editor of the
  // page unless its context says which: Ctrl+Enter in the console ran the script)
  ed.createContextKey<boolean>('vmcoreScriptEditor', true);
  ed.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => opts.onRun(), 'vmcoreScriptEditor');
  return {
    getValue: () => model.getValue(),
    setValue: (v) => model.setValue(v),
    focus: () => ed.focus(),
    showLine: (line, column, message) => {
      const l = Math.min(Math.max(1, line), model.getLineCount());
      const c = column ?? 1;
      ed.revealLineInCenterIfOutsideViewport(l);
      ed.setPosition({ lineNumber: l, column: c });
      decorations.set([{ range: new monaco.Range(l, 1, l, 1), options: { isWholeLine: true, className: 'script-error-line' } }]);
      monaco.editor.setModelMarkers(model, 'vmcore-run', [
        { severity: monaco.MarkerSeverity.Error, message, startLineNumber: l, startColumn: c, endLineNumber: l, endColumn: model.getLineMaxColumn(l) },
      ]);
    },
    clearMarks: () => {
      decorations.clear();
      monaco.editor.setModelMarkers(model, 'vmcore-run', []);
    },
    firstError: () => {
      const m = monaco.editor
        .getModelMarkers({ resource: uri })
        .filter((x) => x.owner !== 'vmcore-run' && x.severity === monaco.MarkerSeverity.Error)
        .sort((a, b) => a.startLineNumber - b.startLineNumber || a.startColumn - b.startColumn)[0];
      return m ? { line: m.startLineNumber, column: m.startColumn, message: m.message } : null;
    },
    syntaxError: async () => {
      const get = await getJavaScriptWorker();
      const w = await get(uri);
      const diags = (await w.getSyntacticDiagnostics(uri.toString())).filter((d) => d.code !== 1108 && d.start !== undefined);
      diags.sort((a, b) => a.start! - b.start!);
      const d = diags[0];
      if (!d) return null;
      const p = model.getPositionAt(d.start!);
      const text = typeof d.messageText === 'string' ? d.messageText : d.messageText.messageText;
      return { line: p.lineNumber, column: p.column, message: text };
    },
    dispose: () => {
      ed.dispose();
      model.dispose();
    },
  };
}
