import type { PanelDef } from '../registry';
import { SlabsPanel } from './SlabsPanel';
import './slabs.css';

export const panel: PanelDef = { id: 'slabs', title: 'Slabs', key: '5', hint: 'kmem -s, kmem -S', component: SlabsPanel };
