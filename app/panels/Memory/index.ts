import type { PanelDef } from '../registry';
import { MemoryPanel } from './MemoryPanel';
import './memory.css';

export const panel: PanelDef = {
  id: 'mem',
  title: 'Memory',
  key: '3',
  hint: 'hex view of an address',
  component: MemoryPanel,
  shortcuts: [
    ['g', 'go to an address, symbol+off or expression (Enter goes, focus returns to the hex view)'],
    ['← → ↑ ↓', 'move the cursor a byte / a row'],
    ['PgUp / PgDn', 'a screen up / down'],
    ['Home / End', 'start / end of the object (or the overlay)'],
    ['Enter', 'follow the pointer under the cursor'],
    ['w', 'cycle 8/16/32/64-bit words'],
    ['click a pointer', 'follow it; hover: what it points to'],
  ],
};
