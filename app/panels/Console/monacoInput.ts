/**
 * The console's command line as a one-line Monaco editor: the crash command language highlighted
 * (commands, flags, addresses, numbers), completion of commands, type names (after struct/union/
 * -s/-o/whatis-like commands) and kernel symbols from the engine, on Tab or Ctrl+Space (no popup
 * while typing, so Enter always runs the line). Loaded on demand: the app starts without Monaco.
 */
import * as monaco from 'monaco-editor/editor';
// the suggest widget itself (features/suggest only adds inline completions)
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/features/placeholderText/register';
import '../../monacoEnv';
import { completeSymbols, listCommands, listTypes, type CommandInfo } from '../../engine';
import { useApp } from '../../store';
import { resultJson } from '../../results';
import { keepEditor } from '../../keptEditors';

const LANG = 'crash';
let registered = false;
let session = '';
/** the context key that holds in the console's command line only (its keys' `when`) */
const COMMAND_LINE_KEY = 'vmcoreCommandLine';
let commands: CommandInfo[] = [];

/** Words after which a type name is wanted. */
const TYPE_CMDS = new Set(['struct', 'union', 'overlay']);

function register(): void {
  if (registered) return;
  registered = true;
  monaco.languages.register({ id: LANG });
  monaco.languages.setMonarchTokensProvider(LANG, {
    tokenizer: {
      root: [
        [/^\s*[a-z_][\w]*/, 'keyword'],
        [/\s-{1,2}[a-zA-Z][\w-]*/, 'attribute'],
        [/\b[0-9a-fA-F]{16}\b/, 'number.hex'],
        [/\b0x[0-9a-fA-F]+\b/, 'number.hex'],
        [/\b\d+\b/, 'number'],
        [/"[^"]*"|'[^']*'/, 'string'],
        [/[|>]/, 'delimiter'],
      ],
    },
  });
  monaco.editor.defineTheme('vmcore-dark', {
    base: 'vs-dark',
    inherit: true,
    rules: [
      { token: 'keyword', foreground: '8fd18f', fontStyle: 'bold' },
      { token: 'attribute', foreground: 'e5c07b' },
      { token: 'number.hex', foreground: '6cb6ff' },
      { token: 'number', foreground: '56c7d6' },
    ],
    colors: { 'editor.background': '#0f1115', 'editor.lineHighlightBackground': '#0f1115', 'editorCursor.foreground': '#6cb6ff' },
  });
  monaco.languages.registerCompletionItemProvider(LANG, {
    triggerCharacters: [],
    provideCompletionItems: (model, position) => completionsAt(model, position),
  });
}

/** Words after which a slab cache name is wanted: kmem -S <cache>, slabcheck <cache>. */
function wantsCache(words: string[], prev: string): boolean {
  return (words[0] === 'kmem' && prev === '-S') || (words[0] === 'slabcheck' && words.length <= 2);
}

/** Slab cache names of this dump, from the store's one cache of results (kmem -s, run once). */
async function cacheNames(): Promise<string[]> {
  const r = await useApp.getState().cached(session, 'kmem -s --json');
  return (resultJson(r, 'kmem -s') ?? []).map((c) => c.name);
}

/** What completes the word at `position`: commands, type names, cache names, symbols. */
async function completionsAt(model: monaco.editor.ITextModel, position: monaco.Position): Promise<monaco.languages.CompletionList> {
  const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
  const word = wordAt(model, position);
  const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
  const words = line.trim().split(/\s+/);
  const first = line.trimStart() === word.word || (words.length <= 1 && !/\s$/.test(line));
  const K = monaco.languages.CompletionItemKind;
  if (first) {
    if (!commands.length) commands = await listCommands();
    return {
      suggestions: commands
        .filter((c) => c.name.startsWith(word.word))
        .map((c) => ({ label: c.name, kind: K.Keyword, insertText: c.name + ' ', detail: c.usage, documentation: c.summary, range })),
    };
  }
  const prev = words[words.length - (/\s$/.test(line) ? 1 : 2)] ?? '';
  const cmd = words[0];
  const out: monaco.languages.CompletionItem[] = [];
  if (wantsCache(words, prev)) {
    for (const n of await cacheNames()) if (n.startsWith(word.word)) out.push({ label: n, kind: K.Enum, insertText: n, detail: 'slab cache', range });
    return { suggestions: out };
  }
  const wantType = (TYPE_CMDS.has(cmd) && words.length <= 2) || prev === '-s' || prev === '-o' || (cmd === 'list' && /^-[so]$/.test(prev));
  if (wantType || (TYPE_CMDS.has(cmd) && !word.word.startsWith('0x'))) {
    for (const t of await listTypes(session, word.word, 60)) {
      out.push({ label: t.name, kind: K.Struct, insertText: t.name, detail: `${t.kind} · ${t.size} B${t.source !== 'vmlinux' ? ' · ' + t.source : ''}`, range });
    }
  }
  if (!wantType && word.word.length >= 2 && !/^(0x)?[0-9a-f]+$/i.test(word.word)) {
    for (const s of await completeSymbols(session, word.word, 80)) out.push({ label: s, kind: K.Function, insertText: s, range });
  }
  return { suggestions: out, incomplete: true };
}

/** The word before the cursor, cache names included (kmalloc-1k has a '-'). */
function wordAt(model: monaco.editor.ITextModel, position: monaco.Position): { word: string; startColumn: number; endColumn: number } {
  const text = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
  const m = /[\w.$:-]*$/.exec(text)!;
  let w = m[0];
  // a leading '-' is a flag, not part of a name
  if (/^-/.test(w) && !/^-[\w]+-/.test(w)) w = w.replace(/^-+/, '');
  return { word: w, startColumn: position.column - w.length, endColumn: position.column };
}

function commonPrefix(a: string[]): string {
  if (!a.length) return '';
  let p = a[0];
  for (const s of a) while (!s.startsWith(p)) p = p.slice(0, -1);
  return p;
}

export interface CommandLine {
  focus(): void;
  setValue(v: string): void;
  getValue(): string;
  dispose(): void;
}

export function createCommandLine(
  el: HTMLElement,
  opts: { session: string; onRun(line: string): void; onHistory(dir: -1 | 1, current: string): string | null },
): CommandLine {
  register();
  session = opts.session;
  const ed = monaco.editor.create(el, {
    value: '',
    language: LANG,
    theme: window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'vs' : 'vmcore-dark',
    lineNumbers: 'off',
    glyphMargin: false,
    folding: false,
    lineDecorationsWidth: 0,
    lineNumbersMinChars: 0,
    minimap: { enabled: false },
    scrollbar: { vertical: 'hidden', horizontal: 'hidden', handleMouseWheel: false, alwaysConsumeMouseWheel: false },
    overviewRulerLanes: 0,
    hideCursorInOverviewRuler: true,
    renderLineHighlight: 'none',
    scrollBeyondLastLine: false,
    wordWrap: 'off',
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    fontSize: 13,
    lineHeight: 22,
    quickSuggestions: false,
    suggestOnTriggerCharacters: false,
    wordBasedSuggestions: 'off',
    acceptSuggestionOnEnter: 'on',
    tabCompletion: 'off',
    contextmenu: false,
    automaticLayout: true,
    placeholder: "command — Tab completes commands, types, symbols, caches · ↑↓ history · 'help'",
    ariaLabel: 'command',
    fixedOverflowWidgets: true,
    suggest: { showWords: false },
  });
  const model = ed.getModel()!;
  // The keys below are this editor's: a command added to a Monaco editor is bound for every editor
  // of the page unless its context says which (Enter in the Script panel's editor ran the command
  // line, ↑/↓ went through its history)
  ed.createContextKey<boolean>(COMMAND_LINE_KEY, true);
  const mine = (when: string) => `${COMMAND_LINE_KEY} && ${when}`;
  // one line only: a pasted newline runs nothing by surprise
  model.onDidChangeContent(() => {
    const v = model.getValue();
    if (v.includes('\n')) model.setValue(v.replace(/\r?\n/g, ' '));
  });
  ed.addCommand(monaco.KeyCode.Enter, () => {
    const v = model.getValue().trim();
    if (!v) return;
    opts.onRun(v);
    model.setValue('');
  }, mine('!suggestWidgetVisible'));
  // Tab: a unique completion is inserted at once; several share a longer prefix: that prefix
  // goes in and the choices open; else the choices open (like a shell)
  ed.addCommand(
    monaco.KeyCode.Tab,
    () => {
      const pos = ed.getPosition();
      if (!pos) return;
      void completionsAt(model, pos).then((list) => {
        const word = wordAt(model, pos);
        const texts = [...new Set(list.suggestions.map((x) => String(x.insertText)))].filter((t) => t.startsWith(word.word));
        const range = new monaco.Range(pos.lineNumber, word.startColumn, pos.lineNumber, word.endColumn);
        if (texts.length === 1) {
          ed.executeEdits('complete', [{ range, text: texts[0] }]);
          return;
        }
        const pre = commonPrefix(texts);
        if (pre.length > word.word.length) ed.executeEdits('complete', [{ range, text: pre }]);
        if (texts.length > 1) ed.trigger('keyboard', 'editor.action.triggerSuggest', {});
      });
    },
    mine('!suggestWidgetVisible'),
  );
  const hist = (d: -1 | 1) => {
    const v = opts.onHistory(d, model.getValue());
    if (v === null) return;
    model.setValue(v);
    ed.setPosition({ lineNumber: 1, column: v.length + 1 });
  };
  ed.addCommand(monaco.KeyCode.UpArrow, () => hist(-1), mine('!suggestWidgetVisible'));
  ed.addCommand(monaco.KeyCode.DownArrow, () => hist(1), mine('!suggestWidgetVisible'));
  return {
    focus: () => ed.focus(),
    setValue: (v) => {
      model.setValue(v);
      ed.setPosition({ lineNumber: 1, column: v.length + 1 });
    },
    getValue: () => model.getValue(),
    dispose: () => ed.dispose(),
  };
}

export function setCompletionSession(s: string): void {
  session = s;
}

type LineOpts = { session: string; onRun(line: string): void; onHistory(dir: -1 | 1, current: string): string | null };
const attached = new Map<string, { node: HTMLDivElement; line: CommandLine; opts: LineOpts }>();

/**
 * The command line of a dump's console in `el`: made once per dump, then detached when the console
 * unmounts (`dispose` of the returned line detaches) and re-attached here, with what was typed,
 * when it mounts again (app/keptEditors.ts says why). The callbacks are the latest mount's.
 */
export function attachCommandLine(el: HTMLElement, opts: LineOpts): CommandLine {
  let k = attached.get(opts.session);
  if (k) {
    k.opts.onRun = opts.onRun;
    k.opts.onHistory = opts.onHistory;
    session = opts.session;
    el.appendChild(k.node);
  } else k = makeCommandLine(el, { ...opts });
  const { node, line } = k;
  return { focus: () => line.focus(), setValue: (v) => line.setValue(v), getValue: () => line.getValue(), dispose: () => node.remove() };
}

/** A dump's command line made in `el` and kept (disposed when its tab closes). */
function makeCommandLine(el: HTMLElement, o: LineOpts): { node: HTMLDivElement; line: CommandLine; opts: LineOpts } {
  const node = document.createElement('div');
  node.style.width = '100%';
  node.style.height = '100%';
  el.appendChild(node);
  const line = createCommandLine(node, { session: o.session, onRun: (l) => o.onRun(l), onHistory: (d, c) => o.onHistory(d, c) });
  const k = { node, line, opts: o };
  attached.set(o.session, k);
  keepEditor(o.session, () => {
    line.dispose();
    node.remove();
    attached.delete(o.session);
  });
  return k;
}

/**
 * Make a dump's command line before its console first opens (the page is idle: Console's
 * PanelDef.preload): created in a hidden holder off screen, then detached, as a kept line
 * is while its console is closed; attachCommandLine then only moves it in. Creating a Monaco editor
 * is a 100-150 ms task, here not at the click.
 */
export function prewarmCommandLine(forSession: string): void {
  if (attached.has(forSession)) return;
  const was = session;
  const holder = document.createElement('div');
  holder.style.cssText = 'position:fixed;left:-10000px;top:0;width:800px;height:22px;visibility:hidden;contain:strict';
  holder.setAttribute('aria-hidden', 'true');
  document.body.appendChild(holder);
  try {
    const k = makeCommandLine(holder, { session: forSession, onRun: () => undefined, onHistory: () => null });
    k.node.remove();
  } finally {
    holder.remove();
    session = was || forSession; // the open console's completions stay its own
  }
}
