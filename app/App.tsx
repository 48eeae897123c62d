/**
 * The layout: tab bar of opened dumps, left nav of panels, the panel, a status bar. Dropping a
 * file anywhere opens it; with no dump (or the "+" tab) the open page shows.
 */
import { useEffect, useRef, useState } from 'react';
import { activeTab, useApp, type Opening, type Tab } from './store';
import { PANEL_DEFS } from './panels';
import { PanelBoundary } from './panels/PanelBoundary';
import { Elapsed, formatBytes, whenIdle } from './panels/common';
import { canCancelRunning, checkDumpUrl, onEngineCrash } from './engine';
import { formatHash } from './permalink';
import { LinkedText } from './panels/common';
import { focusIfIdle, isShortcut } from './keys';
import { WalkthroughDock } from './walkthrough/WalkthroughDock';

export const SAMPLE_URL = '/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib';

/** The dumps bundled under public/samples/ (see its README), offered on the open page. */
const SAMPLES: { name: string; url: string; about: string }[] = [
  { name: '6.1-skb-uaf-0x106', url: SAMPLE_URL, about: '6.1.0-56-amd64 · use-after-free write of 0x106 at +0x2c8 of a kmalloc-1k object reused as an skb head (17 MB)' },
  { name: '6.1-skb-uaf-0x106-slubdebug', url: '/samples/6.1-skb-uaf-0x106-slubdebug/vmcore.kdump-zlib', about: '6.1 with slub_debug: the same incident, red zones, 0x6b poison, "Poison overwritten" (19 MB)' },
  { name: '6.1-bh-scribble', url: '/samples/6.1-bh-scribble/vmcore.kdump-lzo', about: '6.1 · a DMA scribble of zeroes over a buffer_head slab page (kdump-lzo, 23 MB)' },
  { name: '6.12-skb-uaf-kaslr', url: '/samples/6.12-skb-uaf-kaslr/vmcore.kdump-zstd', about: '6.12 with KASLR: the skb incident on newer structures (kdump-zstd, 18 MB)' },
];

/** The permalink of the active view as a full URL (with ?src= when the dump came from a URL). */
export function currentLink(): string {
  const t = activeTab(useApp.getState());
  const sp = new URLSearchParams(window.location.search);
  if (t?.summary.source.kind === 'url') sp.set('src', t.summary.source.url);
  const q = sp.toString();
  return window.location.origin + window.location.pathname + (q ? '?' + q : '') + window.location.hash;
}

/** how long a dump is the active tab before its panels' preloads run (PanelDef.preload) */
const PRELOAD_AFTER_MS = 2000;
/** the dumps whose panels' preloads ran */
const preloaded = new Set<string>();

export function App() {
  const tab = useApp(activeTab);
  const [help, setHelp] = useState(false);
  const openFiles = useApp((s) => s.openFiles);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    onEngineCrash((m) => useApp.getState().reportError('engine', m));
  }, []);

  // once a dump has been the active tab a while and the page is idle, the panels load and make
  // what their first opening would (PanelDef.preload: Monaco, the console's command line)
  const activeSession = tab?.session;
  useEffect(() => {
    if (!activeSession || preloaded.has(activeSession)) return;
    const t = setTimeout(() => {
      preloaded.add(activeSession);
      whenIdle(() => {
        for (const d of PANEL_DEFS) void d.preload?.(activeSession).catch(() => undefined);
      });
    }, PRELOAD_AFTER_MS);
    return () => clearTimeout(t);
  }, [activeSession]);

  // drop anywhere on the page
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const files = e.dataTransfer ? Array.from(e.dataTransfer.files) : [];
      void openFiles(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [openFiles]);

  // 1..N switch panels (outside text fields and editors)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setHelp(false);
      // one policy (app/keys.ts): never take a key from a text field or an editor (Monaco included)
      if (!isShortcut(e)) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelp((h) => !h);
        return;
      }
      const p = PANEL_DEFS.find((d) => d.key === e.key);
      const s = useApp.getState();
      const cur = activeTab(s);
      if (p && cur) {
        e.preventDefault(); // the key must not land in the panel's input that takes focus
        if (cur.view.panel !== p.id) s.navigate({ panel: p.id, params: {} });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const pickFile = () => fileInput.current?.click();

  return (
    <div className="app">
      <TabBar onOpen={() => useApp.getState().activate(null)} />
      <Banners />
      {tab ? <Workspace /> : <OpenPage pickFile={pickFile} />}
      <WalkthroughDock />
      <StatusBar onHelp={() => setHelp(true)} />
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      <input
        ref={fileInput}
        type="file"
        hidden
        multiple
        data-testid="file-input"
        onChange={(e) => {
          void openFiles(Array.from(e.target.files ?? []));
          e.target.value = '';
        }}
      />
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div>
            Drop a vmcore to open it
            <div className="small">It is read here, in your browser. Nothing is uploaded.</div>
          </div>
        </div>
      )}
    </div>
  );
}

function TabBar({ onOpen }: { onOpen: () => void }) {
  const tabs = useApp((s) => s.tabs);
  const active = useApp((s) => s.active);
  const activate = useApp((s) => s.activate);
  const close = useApp((s) => s.closeTab);
  const opening = useApp((s) => s.opening);
  return (
    <header className="tabbar" role="tablist">
      <span className="brand">vmcore&nbsp;workbench</span>
      {tabs.map((t) => (
        <div
          key={t.session}
          role="tab"
          aria-selected={t.session === active}
          className={'tab' + (t.session === active ? ' on' : '')}
          onClick={() => activate(t.session)}
          title={`${t.summary.name} · ${t.summary.release ?? ''} · fingerprint ${t.summary.fingerprint}`}
        >
          <span className="name">{tabLabel(t, tabs)}</span>
          <span className="fp">{t.summary.fingerprint}</span>
          <button
            className="close"
            aria-label={`close ${t.summary.name}`}
            onClick={(e) => {
              e.stopPropagation();
              close(t.session);
            }}
          >
            ×
          </button>
        </div>
      ))}
      {opening.map((o) => (
        <div key={o.id} className="tab opening">
          <span className="spinner" /> {o.label}
        </div>
      ))}
      <button
        className={'tab add' + (active === null ? ' on' : '')}
        onMouseDown={(e) => e.preventDefault() /* a click leaves no focus here: Enter must not reopen the open page */}
        onClick={onOpen}
        title="open another dump"
      >
        + open
      </button>
    </header>
  );
}

/** A tab's name; when two open dumps share a file name, the folder (URL) or release tells them apart. */
function tabLabel(t: Tab, tabs: Tab[]): string {
  const n = t.summary.name;
  if (tabs.filter((x) => x.summary.name === n).length < 2) return n;
  const src = t.summary.source;
  if (src.kind === 'url') {
    const parts = src.url.split('?')[0].split('/').filter(Boolean);
    if (parts.length > 1) return `${parts[parts.length - 2]}/${n}`;
  }
  return `${n} · ${t.summary.release ?? t.summary.fingerprint}`;
}

/** Which dump a background job runs on (shown when several are open). */
function JobDump({ session, tabs }: { session: string; tabs: Tab[] }) {
  const t = tabs.find((x) => x.session === session);
  return <b>{t ? tabLabel(t, tabs) : 'closed dump'}: </b>;
}

function Banners() {
  const errors = useApp((s) => s.errors);
  const dismiss = useApp((s) => s.dismissError);
  const notice = useApp((s) => s.notice);
  const setNotice = useApp((s) => s.setNotice);
  return (
    <>
      {errors.map((e) => (
        <div key={e.id} className="banner error" role="alert" data-testid="error">
          <b>{e.context}:</b> {e.message}
          <button className="link" onClick={() => dismiss(e.id)}>
            dismiss
          </button>
        </div>
      ))}
      {notice && (
        <div className="banner notice">
          {notice}
          <button className="link" onClick={() => setNotice(null)}>
            dismiss
          </button>
        </div>
      )}
    </>
  );
}

function Workspace() {
  const tab = useApp(activeTab)!;
  const navigate = useApp((s) => s.navigate);
  const def = PANEL_DEFS.find((d) => d.id === tab.view.panel) ?? PANEL_DEFS[0];
  const Panel = def.component;
  const host = useRef<HTMLElement>(null);
  // focus follows the panel: its own main element when it marks one (data-autofocus, or a panel
  // focusing itself once loaded), else the panel host, so g, /, arrows work without a click
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const t = setTimeout(() => {
      const a = document.activeElement;
      if (a && a !== document.body && el.contains(a)) return; // the panel took focus itself
      focusIfIdle(el.querySelector<HTMLElement>('[data-autofocus]') ?? el);
    }, 0);
    return () => clearTimeout(t);
  }, [tab.session, def.id]);
  return (
    <div className="body">
      <nav className="nav" aria-label="panels">
        {PANEL_DEFS.map((d) => (
          <a
            key={d.id}
            href={formatHash({ fingerprint: tab.summary.fingerprint, view: { panel: d.id, params: {} } })}
            className={d.id === def.id ? 'on' : ''}
            title={`${d.hint} (key ${d.key})`}
            onClick={(e) => {
              e.preventDefault();
              navigate({ panel: d.id, params: {} });
            }}
          >
            <span className="k">{d.key}</span> <span className="t">{d.title}</span>
          </a>
        ))}
        <div className="nav-foot">
          <div className="dim small">{tab.summary.release ?? 'unknown release'}</div>
        </div>
      </nav>
      <main className="panelhost" key={tab.session + def.id} ref={host} tabIndex={-1} aria-label={def.title}>
        <PanelBoundary name={def.title}>
          <Panel tab={tab} />
        </PanelBoundary>
      </main>
      {tab.pins.length > 0 && <Pins />}
    </div>
  );
}

/** Console results pinned beside the panels (per dump). */
function Pins() {
  const tab = useApp(activeTab)!;
  const unpin = useApp((s) => s.unpin);
  return (
    <aside className="pins" aria-label="pinned results" data-testid="pins">
      <div className="pins-h">pinned results</div>
      {tab.pins.map((p) => (
        <div key={p.id} className="pin">
          <div className="pin-h">
            <span>crash&gt; {p.line}</span>
            <button className="link" onClick={() => unpin(tab.session, p.id)} aria-label={`unpin ${p.line}`}>
              ×
            </button>
          </div>
          <pre className="output">
            <LinkedText text={p.text} />
          </pre>
        </div>
      ))}
    </aside>
  );
}

/** The "?" list: the app's own keys, then each panel's (from its PanelDef). */
function shortcutSections(): [string, [string, string][]][] {
  const keys = PANEL_DEFS.map((d) => d.key);
  return [
    [
      'everywhere (outside text fields and editors)',
      [
        [`${keys[0]} … ${keys[keys.length - 1]}`, 'switch panel (focus moves into it)'],
        ['?', 'this list'],
        ['Alt+← / Alt+→', 'back / forward between views (the browser history)'],
        ['Esc', 'close this list'],
      ],
    ],
    ...PANEL_DEFS.filter((d) => d.shortcuts?.length).map((d): [string, [string, string][]] => [d.title.toLowerCase(), d.shortcuts!]),
  ];
}

function Shortcuts({ onClose }: { onClose: () => void }) {
  return (
    <div className="modal-back" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="keyboard shortcuts" data-testid="shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        {shortcutSections().map(([h, rows]) => (
          <div key={h}>
            <h3>{h}</h3>
            <dl>
              {rows.map(([k, v]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt>
                    <kbd>{k}</kbd>
                  </dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          </div>
        ))}
        <div className="dim small" style={{ marginTop: 10 }}>
          Every view is a link: copy it from the status bar; a colleague with the same dump lands on the same bytes.
        </div>
      </div>
    </div>
  );
}

function CopyLink() {
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 6000);
    return () => clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    const link = currentLink();
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      /* clipboard refused (no permission): the toast shows the link to copy by hand */
    }
    setCopied(link);
  };
  return (
    <>
      <button className="link" onClick={() => void copy()} data-testid="copy-link" title="copy a link to this view">
        copy link
      </button>
      {copied && (
        <div className="toast" role="status">
          link copied: <span data-testid="copied-link">{copied}</span>
        </div>
      )}
    </>
  );
}

function OpeningRow({ o }: { o: Opening }) {
  const p = o.progress;
  return (
    <div className="opening-row" role="status" data-testid="opening">
      <span className="spinner" /> opening <b>{o.label}</b> · {p?.phase ?? 'starting the engine'}
      {p && p.size > 0 && (
        <>
          {' '}
          · {formatBytes(p.bytesRead)} read of {formatBytes(p.size)}
        </>
      )}{' '}
      · <Elapsed since={o.startedAt} />
    </div>
  );
}

function OpenPage({ pickFile }: { pickFile: () => void }) {
  const openUrl = useApp((s) => s.openUrl);
  const opening = useApp((s) => s.opening);
  const wanted = useApp((s) => s.wanted);
  const tabs = useApp((s) => s.tabs);
  const [url, setUrl] = useState('');
  const [urlError, setUrlError] = useState<string | null>(null);
  return (
    <div className="open-page">
      <div className="open-card">
        <h1>Open a Linux crash dump</h1>
        {wanted && (
          <div className="banner notice" data-testid="wanted">
            This link points into dump <code>{wanted.fingerprint}</code> ({wanted.view.panel}
            {wanted.view.arg ? ` ${wanted.view.arg}` : ''}). Open that dump and you land there.
          </div>
        )}
        <p className="dim">
          A vmcore (kdump-compressed zlib/lzo/snappy/zstd, flattened, or ELF). No vmlinux needed: symbols, types
          and the log come from the dump itself. It is read in this tab; nothing is uploaded.
        </p>
        <div className="drop-target" onClick={pickFile}>
          Drop the dump anywhere on this page, or <button className="primary">choose a file…</button>
        </div>
        <form
          className="url-form"
          onSubmit={(e) => {
            e.preventDefault();
            const c = checkDumpUrl(url);
            if (!c.ok) {
              setUrlError(c.error);
              return;
            }
            setUrlError(null);
            void openUrl(url);
          }}
        >
          <input
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="/path/to/vmcore on this server (HTTP Range)"
            aria-label="dump URL"
            spellCheck={false}
          />
          <button type="submit" disabled={!url.trim()}>
            open URL
          </button>
        </form>
        <div className="dim small">
          URLs are read from this app's own origin only ({window.location.origin}): the page may not send dump
          reads anywhere else. Put the dump (or a Range-capable proxy to it) under this origin, or link
          <code> ?src=/path/to/vmcore</code>.
        </div>
        {urlError && (
          <div className="banner error" role="alert">
            {urlError}
          </div>
        )}
        {opening.map((o) => (
          <OpeningRow key={o.id} o={o} />
        ))}
        <div className="samples" data-testid="samples">
          <div className="dim small">Bundled samples (real dumps, read over HTTP Range from this server):</div>
          {SAMPLES.map((x, i) => (
            <div key={x.url} className="sample">
              <button
                className={i === 0 ? 'primary' : ''}
                data-testid={i === 0 ? 'open-sample' : `open-sample-${x.name}`}
                disabled={tabs.some((t) => t.summary.source.kind === 'url' && t.summary.source.url === x.url)}
                onClick={() => void openUrl(x.url)}
              >
                {x.name}
              </button>
              <span className="dim small"> {x.about}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

function StatusBar({ onHelp }: { onHelp: () => void }) {
  const tab = useApp(activeTab);
  const tabs = useApp((s) => s.tabs);
  const jobs = useApp((s) => s.jobs);
  const running = Object.values(jobs);
  return (
    <footer className="status">
      {tab ? (
        <>
          <span>{tab.summary.name}</span>
          <span>
            fingerprint <code data-testid="status-fingerprint">{tab.summary.fingerprint}</code>
          </span>
          <span>
            {tab.summary.format}/{tab.summary.compression}
          </span>
          <span>{formatBytes(tab.summary.size)}</span>
          {tab.summary.release && <span>{tab.summary.release}</span>}
          <CopyLink />
        </>
      ) : (
        <span>no dump open</span>
      )}
      <span className="spacer" />
      {running.map((j) => (
        <span key={j.jobId} className="job" title={`running on ${tabs.find((t) => t.session === j.session)?.summary.name ?? j.session}`}>
          <span className="spinner" /> {tabs.length > 1 && <JobDump session={j.session} tabs={tabs} />}
          {j.line}
          {j.progress && j.progress.total > 0 && ` ${j.progress.done}/${j.progress.total} ${j.progress.what}`} ·{' '}
          <Elapsed since={j.startedAt} />{' '}
          <button className="link" onClick={j.cancel} title={canCancelRunning ? 'stop now' : 'stops after the current step'}>
            cancel
          </button>
        </span>
      ))}
      <button className="link" onClick={onHelp} title="keyboard shortcuts (?)">
        ? keys
      </button>
    </footer>
  );
}
