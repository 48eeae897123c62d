import type { PanelDef } from '../registry';
import { SystemPanel } from './SystemPanel';

export const panel: PanelDef = {
  id: 'system',
  title: 'System',
  key: '8',
  hint: 'kmem -i, mod, runq, irq, timer',
  component: SystemPanel,
};
