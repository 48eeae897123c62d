import type { PanelDef } from '../registry';
import { BacktracePanel } from './BacktracePanel';
import './backtrace.css';

export const panel: PanelDef = { id: 'bt', title: 'Backtrace', key: '4', hint: 'bt, bt -a', component: BacktracePanel };
