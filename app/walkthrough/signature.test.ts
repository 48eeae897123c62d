import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { matchSignature } from './signature';
import type { OopsJson } from '../engine';
import type { WalkthroughIndexEntry } from './types';

const index = JSON.parse(readFileSync(fileURLToPath(new URL('../../public/walkthroughs/index.json', import.meta.url)), 'utf8')) as WalkthroughIndexEntry[];
const sig = (id: string) => index.find((e) => e.id === id)!.signature;

function oops(rip: string, cr2: string): OopsJson {
  return {
    found: true,
    reports: [{ headline: `BUG: kernel NULL pointer dereference, address: ${cr2}`, rip: { symbol: rip, offset: 1, length: 2 }, control: { CR2: cr2 }, panic: 'Fatal exception' } as never],
  };
}

describe('walkthrough signatures', () => {
  it('the aacraid walkthrough matches any dump with the same oops, and only those', () => {
    expect(matchSignature(sig('aacraid-0x106'), oops('skb_release_data', '0x106'), '').matched).toBe(true);
    expect(matchSignature(sig('aacraid-0x106'), oops('kfree_skb_list_reason', '0x106'), '').matched).toBe(false);
    expect(matchSignature(sig('aacraid-0x106-6.12'), oops('kfree_skb_list_reason', '0x106'), '').matched).toBe(true);
    expect(matchSignature(sig('aacraid-0x106'), oops('skb_release_data', '0x60'), '').why[0]).toMatch(/CR2 0x60/);
    expect(matchSignature(sig('aacraid-0x106'), { found: false, reports: [] }, '').matched).toBe(false);
  });
  it('log signatures', () => {
    const log = '[    4.3] BUG kmalloc-1k (Tainted: G           OE     ): Poison overwritten\n';
    expect(matchSignature(sig('swiotlb-unmap-after-free'), undefined, log).matched).toBe(true);
    expect(matchSignature(sig('swiotlb-unmap-after-free'), undefined, 'nothing').matched).toBe(false);
  });
});
