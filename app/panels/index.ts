/**
 * The panels, in nav order: one line per panel. A panel is a folder under app/panels/ whose
 * index.ts exports `panel: PanelDef` (see registry.ts) and imports its own styles; adding one is
 * that folder plus a line here. The permalink parser learns the ids from this list.
 */
import { registerPanelIds } from '../permalink';
import type { PanelDef } from './registry';
import { panel as summary } from './Summary';
import { panel as log } from './Log';
import { panel as mem } from './Memory';
import { panel as bt } from './Backtrace';
import { panel as slabs } from './Slabs';
import { panel as console } from './Console';
import { panel as tasks } from './Tasks';
import { panel as system } from './System';
import { panel as script } from './Script';

export type { PanelDef } from './registry';

export const PANEL_DEFS: PanelDef[] = [summary, log, mem, bt, slabs, console, tasks, system, script];

registerPanelIds(PANEL_DEFS.map((d) => d.id));
