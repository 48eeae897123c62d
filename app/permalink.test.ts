import { describe, expect, it } from 'vitest';
import { formatHash, parseHash, registerPanelIds, sameView, srcParam } from './permalink';

registerPanelIds(['summary', 'log', 'mem', 'bt', 'slabs', 'console']);

describe('permalink', () => {
  it('round-trips views', () => {
    for (const h of [
      '#/3f9c2a17/summary',
      '#/3f9c2a17/log?line=312&q=BUG',
      '#/3f9c2a17/mem/ffff9612a277cc00?off=2c8&type=request',
      '#/3f9c2a17/mem/skb_release_data+0x11d/0x2a0',
      '#/3f9c2a17/bt/180',
      '#/3f9c2a17/slabs/kmalloc-1k',
      '#/3f9c2a17/console',
    ]) {
      const p = parseHash(h);
      expect(p).not.toBeNull();
      expect(formatHash(p!)).toBe(h);
    }
  });
  it('parses defaults and rejects non-permalinks', () => {
    expect(parseHash('')).toBeNull();
    expect(parseHash('#')).toBeNull();
    expect(parseHash('#/not-hex/log')).toBeNull();
    expect(parseHash('#/3F9C2A17')).toEqual({ fingerprint: '3f9c2a17', view: { panel: 'summary', params: {} } });
    expect(parseHash('#/3f9c2a17/nosuch/x')!.view).toEqual({ panel: 'summary', params: {} });
  });
  it('compares views ignoring empty params', () => {
    expect(sameView({ panel: 'log', params: { q: '' } }, { panel: 'log', params: {} })).toBe(true);
    expect(sameView({ panel: 'log', params: { q: 'a' } }, { panel: 'log', params: {} })).toBe(false);
  });
  it('reads ?src=', () => {
    expect(srcParam('?src=/samples/x/vmcore')).toBe('/samples/x/vmcore');
    expect(srcParam('?src=')).toBeNull();
  });
});
