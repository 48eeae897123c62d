import type { PanelDef } from '../registry';
import { whenIdle } from '../common';
import { useApp } from '../../store';
import { ConsolePanel } from './ConsolePanel';
import './console.css';

export const panel: PanelDef = {
  id: 'console',
  title: 'Console',
  key: '6',
  hint: 'crash commands',
  component: ConsolePanel,
  // Monaco's modules, then the dump's command line: evaluating them and creating the editor are
  // 100-150 ms main-thread tasks each, done while the user reads the summary (one idle period
  // each), not when the console first opens
  preload: (session) =>
    import('./monacoInput').then(
      (m) =>
        new Promise<void>((done) =>
          whenIdle(() => {
            // not for a dump whose tab closed meanwhile (its kept editors are already disposed)
            if (useApp.getState().tabs.some((t) => t.session === session)) m.prewarmCommandLine(session);
            done();
          }),
        ),
    ),
  shortcuts: [
    ['Enter', 'run'],
    ['↑ / ↓', 'history'],
    ['Tab', 'complete: a unique prefix at once, else the choices (commands, struct names, symbols, caches)'],
  ],
};
