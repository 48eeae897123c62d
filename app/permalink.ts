/**
 * The URL is the store's permalink (DESIGN.md): `#/<fingerprint>/<view>[/<arg>]?k=v&...`.
 * It holds which dump (by fingerprint, never by contents) and which view, so that a link pasted
 * into a chat lands a colleague, who has the same dump, on the same place:
 *
 *   #/3f9c2a17/summary
 *   #/3f9c2a17/log?q=BUG&line=312
 *   #/3f9c2a17/mem/ffff9612a277cc00?type=request&off=2c8
 *   #/3f9c2a17/bt/180
 *   #/3f9c2a17/slabs/kmalloc-1k
 *   #/3f9c2a17/console
 *   #/3f9c2a17/tasks?state=UN   #/3f9c2a17/tasks/hung   #/3f9c2a17/system/modules
 *
 * The query part of the page URL (before '#') is left to `?src=<same-origin url>`, which opens
 * a dump by URL on load.
 */

/** A panel's id (app/panels/<Folder>/index.ts); the known ids come from app/panels/index.ts. */
export type PanelId = string;

const known = new Set<string>(['summary']);

/** Called once by app/panels/index.ts with every panel's id. */
export function registerPanelIds(ids: readonly string[]): void {
  for (const id of ids) known.add(id);
}

/** The ids of the registered panels. */
export function panelIds(): string[] {
  return [...known];
}

export interface View {
  panel: PanelId;
  /** the panel's place: an address for mem, a pid/task for bt, a cache for slabs */
  arg?: string;
  /** extra state: log search (q), selected line (line), struct overlay (type, off), ... */
  params: Record<string, string>;
}

export interface Permalink {
  fingerprint: string;
  view: View;
}

export const DEFAULT_VIEW: View = { panel: 'summary', params: {} };

export function isPanel(s: string): s is PanelId {
  return known.has(s);
}

/** Parse a location hash ("#/fp/view/arg?x=y"); null when it is not a permalink. */
export function parseHash(hash: string): Permalink | null {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!h.startsWith('/')) return null;
  h = h.slice(1);
  const q = h.indexOf('?');
  const path = q >= 0 ? h.slice(0, q) : h;
  const query = q >= 0 ? h.slice(q + 1) : '';
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return null;
  const fingerprint = parts[0].toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(fingerprint)) return null;
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  if (parts.length === 1) return { fingerprint, view: { panel: 'summary', params } };
  const panelName = decodeURIComponent(parts[1]);
  const panel: PanelId = isPanel(panelName) ? panelName : 'summary';
  const view: View = { panel, params };
  if (parts.length > 2 && isPanel(panelName)) view.arg = decodeURIComponent(parts.slice(2).join('/'));
  return { fingerprint, view };
}

/** Format a permalink hash; params are sorted so that equal views give equal URLs. */
export function formatHash(p: Permalink): string {
  let s = `#/${p.fingerprint}/${p.view.panel}`;
  if (p.view.arg) s += '/' + encodeArg(p.view.arg);
  const keys = Object.keys(p.view.params)
    .filter((k) => p.view.params[k] !== '' && p.view.params[k] !== undefined)
    .sort();
  if (keys.length) {
    const sp = new URLSearchParams();
    for (const k of keys) sp.set(k, p.view.params[k]);
    s += '?' + sp.toString();
  }
  return s;
}

/** Keep addresses, symbols (+, ., :) and cache names readable in the URL. */
function encodeArg(a: string): string {
  return encodeURIComponent(a).replace(/%2B/gi, '+').replace(/%3A/gi, ':').replace(/%2F/gi, '/');
}

export function sameView(a: View, b: View): boolean {
  if (a.panel !== b.panel || (a.arg ?? '') !== (b.arg ?? '')) return false;
  const ka = Object.keys(a.params).filter((k) => a.params[k] !== '');
  const kb = Object.keys(b.params).filter((k) => b.params[k] !== '');
  if (ka.length !== kb.length) return false;
  return ka.every((k) => a.params[k] === b.params[k]);
}

/** `?src=` of the page URL: a dump to open by URL on load. */
export function srcParam(search: string): string | null {
  const v = new URLSearchParams(search).get('src');
  return v && v.trim() ? v.trim() : null;
}
