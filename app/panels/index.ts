/**
 * The panels, in nav order. A panel is a component over one Tab; its place in the URL is
 * `#/<fp>/<id>[/<arg>]`. Adding a panel = a folder under app/panels/ + a line here + its id in
 * permalink.ts PANELS.
 */
import type { ComponentType } from 'react';
import type { PanelId } from '../permalink';
import type { Tab } from '../store';
import { SummaryPanel } from './Summary/SummaryPanel';
import { LogPanel } from './Log/LogPanel';
import { MemoryPanel } from './Memory/MemoryPanel';
import { BacktracePanel } from './Backtrace/BacktracePanel';
import { SlabsPanel } from './Slabs/SlabsPanel';
import { ConsolePanel } from './Console/ConsolePanel';
import { TasksPanel } from './Tasks/TasksPanel';
import { SystemPanel } from './System/SystemPanel';

export interface PanelDef {
  id: PanelId;
  title: string;
  key: string;
  hint: string;
  component: ComponentType<{ tab: Tab }>;
}

export const PANEL_DEFS: PanelDef[] = [
  { id: 'summary', title: 'Summary', key: '1', hint: 'panic, kernel, time, task', component: SummaryPanel },
  { id: 'log', title: 'Log', key: '2', hint: 'kernel log (log)', component: LogPanel },
  { id: 'mem', title: 'Memory', key: '3', hint: 'hex view of an address', component: MemoryPanel },
  { id: 'bt', title: 'Backtrace', key: '4', hint: 'bt, bt -a', component: BacktracePanel },
  { id: 'slabs', title: 'Slabs', key: '5', hint: 'kmem -s, kmem -S', component: SlabsPanel },
  { id: 'console', title: 'Console', key: '6', hint: 'crash commands', component: ConsolePanel },
  { id: 'tasks', title: 'Tasks', key: '7', hint: 'stacks, hung', component: TasksPanel },
  { id: 'system', title: 'System', key: '8', hint: 'kmem -i, mod, runq, irq, timer', component: SystemPanel },
];

// Walkthrough player (app/walkthrough/): a dock beside the panels, mounted in its own root.
import '../walkthrough/mount';
