/**
 * The engine's WebAssembly is committed as bytes (`*-wasm-bytes.ts`, so that neither the browser
 * nor `npm ci --omit=dev` needs an assembler): each must be what its .wat text assembles to
 * (scripts/build-wasm.mjs, with wabt).
 */
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { assemble, MODULES } from '../scripts/build-wasm.mjs';

describe('committed WebAssembly', () => {
  it('lists both modules', () => {
    expect(MODULES.map((m: { name: string }) => m.name)).toEqual(['LZO_WASM_BASE64', 'BULK_WASM_BASE64']);
  });
  for (const m of MODULES as Array<{ wat: string; out: string; name: string }>) {
    it(`${m.name}: the bytes are what ${m.wat.split('/').pop()} assembles to`, async () => {
      const bytes: Uint8Array = await assemble(m.wat);
      const committed = (await import(pathToFileURL(m.out).href))[m.name];
      expect(Buffer.from(bytes).toString('base64')).toBe(committed);
    });
  }
});
