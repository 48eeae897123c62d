import type { PanelDef } from '../registry';
import { LogPanel } from './LogPanel';
import './log.css';

export const panel: PanelDef = {
  id: 'log',
  title: 'Log',
  key: '2',
  hint: 'kernel log (log)',
  component: LogPanel,
  shortcuts: [
    ['/', 'search (substring or /regex/)'],
    ['Enter / Shift+Enter', 'next / previous match'],
  ],
};
