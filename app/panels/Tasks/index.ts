import type { PanelDef } from '../registry';
import { TasksPanel } from './TasksPanel';

export const panel: PanelDef = {
  id: 'tasks',
  title: 'Tasks',
  key: '7',
  hint: 'every task grouped by stack, D-state (stacks, hung)',
  component: TasksPanel,
};
