import type { PanelDef } from '../registry';
import { ConsolePanel } from './ConsolePanel';
import './console.css';

export const panel: PanelDef = {
  id: 'console',
  title: 'Console',
  key: '6',
  hint: 'crash commands',
  component: ConsolePanel,
  shortcuts: [
    ['Enter', 'run'],
    ['↑ / ↓', 'history'],
    ['Tab', 'complete: a unique prefix at once, else the choices (commands, struct names, symbols, caches)'],
  ],
};
