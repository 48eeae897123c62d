import type { PanelDef } from '../registry';
import { ConsolePanel } from './ConsolePanel';
import './console.css';

export const panel: PanelDef = {
  id: 'console',
  title: 'Console',
  key: '6',
  hint: 'crash commands',
  component: ConsolePanel,
  // Monaco's modules: evaluating them is a 100-150 ms main-thread task, done while the user reads
  // the summary instead of when the console first opens (creating the editor is another such task)
  preload: () => import('./monacoInput'),
  shortcuts: [
    ['Enter', 'run'],
    ['↑ / ↓', 'history'],
    ['Tab', 'complete: a unique prefix at once, else the choices (commands, struct names, symbols, caches)'],
  ],
};
