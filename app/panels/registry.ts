/**
 * What a panel is, in one place: its folder's index.ts exports one PanelDef (id, title, shortcut,
 * the keys it adds to the "?" list, the component) and imports its styles; app/panels/index.ts
 * lists the panels in nav order. Adding a panel = one folder + one line in app/panels/index.ts.
 * The id is the panel's name in permalinks (`#/<fp>/<id>[/<arg>]?...`).
 */
import type { ComponentType } from 'react';
import type { Tab } from '../store';

export interface PanelDef {
  /** its name in the URL: `#/<fp>/<id>/<arg>?k=v` */
  id: string;
  title: string;
  /** one-key shortcut that switches to it (from anywhere outside an editor or input) */
  key: string;
  /** tooltip of its nav entry */
  hint: string;
  component: ComponentType<{ tab: Tab }>;
  /** its own keys for the "?" list: [keys, what they do] */
  shortcuts?: [string, string][];
  /**
   * Loads and makes what the panel's first opening would (a large module, an editor: Monaco) for
   * the dump `session`, called once the page is idle after that dump became the active tab, so
   * that opening the panel does not wait for it
   */
  preload?: (session: string) => Promise<unknown>;
}
