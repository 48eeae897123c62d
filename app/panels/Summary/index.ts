import type { PanelDef } from '../registry';
import { SummaryPanel } from './SummaryPanel';
import './summary.css';

export const panel: PanelDef = { id: 'summary', title: 'Summary', key: '1', hint: 'panic, kernel, time, task', component: SummaryPanel };
