import type { PanelDef } from '../registry';
import { ScriptPanel } from './ScriptPanel';
import './script.css';

export const panel: PanelDef = {
  id: 'script',
  title: 'Script',
  key: '9',
  hint: 'JavaScript over the dump, with its kernel types',
  component: ScriptPanel,
  shortcuts: [
    ['Ctrl+Enter', 'run the script (in its own worker; Cancel or the time budget terminates it)'],
    ['Ctrl+Space', 'complete (members of kernel structs from the dump’s BTF)'],
  ],
};
