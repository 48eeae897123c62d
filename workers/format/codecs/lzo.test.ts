/**
 * LZO1X against liblzo2's own output: fixtures are made at run time by python3-lzo (a binding of
 * liblzo2: level 1 = lzo1x_1_compress, level 9 = lzo1x_999_compress; header=False gives the raw
 * stream without python-lzo's 5-byte length prefix, which is what makedumpfile stores).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lzo1xDecompress, lzo1xDecompressJs } from './lzo';
import { lzoWasm } from './lzo-wasm';
import { CodecError } from './errors';

const PY = '/usr/bin/python3';

const SCRIPT = String.raw`
import base64, json, random, lzo
rng = random.Random(20261121)
def page_like():
    # a kernel-ish page: pointers, small ints, zero runs, some text
    out = bytearray()
    while len(out) < 4096:
        k = rng.random()
        if k < 0.3: out += (0xffff888000000000 + rng.randrange(1 << 28) * 8).to_bytes(8, 'little')
        elif k < 0.5: out += bytes(8 * rng.randrange(1, 20))
        elif k < 0.7: out += rng.randrange(256).to_bytes(8, 'little')
        else: out += b'kmalloc-1k skbuff_head_cache buffer_head '[: rng.randrange(1, 40)]
    return bytes(out[:4096])
inputs = {
  'zeros-4096': bytes(4096),
  'random-4096': rng.randbytes(4096),
  'random-100000': rng.randbytes(100000),
  'text': (open('/usr/share/common-licenses/GPL-2', 'rb').read() if __import__('os').path.exists('/usr/share/common-licenses/GPL-2') else b'The quick brown fox jumps over the lazy dog. ' * 500),
  'page-like': page_like(),
  'one-byte': b'x',
  'three-bytes': b'abc',
  'runs': b'a' * 70000 + b'bc' * 5000 + bytes(300) + b'xyz' * 7,
  'ff-page': b'\xff' * 4096,
  'pattern-17': bytes(range(17)) * 300,
}
out = []
for name, data in inputs.items():
    for level in (1, 9):
        c = lzo.compress(data, level, False)
        assert lzo.decompress(c, False, len(data)) == data
        out.append({'name': name, 'level': level, 'input': base64.b64encode(data).decode(), 'compressed': base64.b64encode(c).decode()})
with_header = lzo.compress(b'hello hello hello', 1)
print(json.dumps({'fixtures': out, 'header': base64.b64encode(with_header).decode(), 'version': str(lzo.LZO_VERSION_STRING)}))
`;

interface Fixture {
  name: string;
  level: number;
  input: Uint8Array;
  compressed: Uint8Array;
}

function loadFixtures(): { fixtures: Fixture[]; header: Uint8Array; version: string } | string {
  if (!existsSync(PY)) return `${PY} not found`;
  try {
    const json = JSON.parse(execFileSync(PY, ['-c', SCRIPT], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    return {
      fixtures: json.fixtures.map((f: any) => ({ name: f.name, level: f.level, input: b64(f.input), compressed: b64(f.compressed) })),
      header: b64(json.header),
      version: json.version,
    };
  } catch (e) {
    return `python3-lzo unavailable (${String((e as Error).message).split('\n')[0]})`;
  }
}

const loaded = loadFixtures();
const fx = typeof loaded === 'string' ? null : loaded;
const reason = typeof loaded === 'string' ? loaded : '';

it('decodes with the WebAssembly decoder (lzo.wat) in this runtime', () => {
  expect(lzoWasm()).not.toBeNull();
});

// both decoders, the same expectations: lzo1xDecompress runs lzo.wat's WebAssembly, lzo1xDecompressJs the JavaScript
for (const [impl, decode] of [
  ['wasm', lzo1xDecompress],
  ['js', lzo1xDecompressJs],
] as const) {
  describe.skipIf(!fx)(`lzo1x (${impl}) vs liblzo2 fixtures${fx ? '' : ` (skipped: ${reason})`}`, () => {
    it('decodes every lzo1x_1 and lzo1x_999 fixture exactly', () => {
      expect(fx!.fixtures.length).toBe(20);
      for (const f of fx!.fixtures) {
        const out = decode(f.compressed, f.input.length);
        expect(out.length, `${f.name} level ${f.level}`).toBe(f.input.length);
        expect(Buffer.compare(Buffer.from(out), Buffer.from(f.input)), `${f.name} level ${f.level}`).toBe(0);
      }
    });

    it("python-lzo's default output has a 5-byte header (0xf0 + BE length) that is not part of the stream", () => {
      const h = fx!.header;
      expect(h[0]).toBe(0xf0);
      expect((h[1] << 24) | (h[2] << 16) | (h[3] << 8) | h[4]).toBe(17);
      expect(new TextDecoder().decode(decode(h.subarray(5), 17))).toBe('hello hello hello');
    });

    it('throws CodecError for every truncation of a stream', () => {
      for (const f of fx!.fixtures.filter((x) => ['page-like', 'text', 'random-4096', 'runs'].includes(x.name))) {
        const c = f.compressed;
        const cuts = new Set<number>([0, 1, 2, 3, c.length - 1, c.length - 2, c.length - 3]);
        for (let i = 0; i < 64; i++) cuts.add(Math.floor((c.length * i) / 64));
        for (const n of cuts) {
          if (n < 0 || n >= c.length) continue;
          expect(() => decode(c.subarray(0, n), f.input.length), `${f.name}/${f.level} cut at ${n}`).toThrow(CodecError);
        }
      }
    });

    it('throws when the output would exceed the expected size', () => {
      const f = fx!.fixtures.find((x) => x.name === 'page-like')!;
      expect(() => decode(f.compressed, f.input.length - 1)).toThrow(/output overrun/);
      const z = fx!.fixtures.find((x) => x.name === 'zeros-4096')!;
      expect(() => decode(z.compressed, 100)).toThrow(CodecError);
    });

    it('throws on trailing bytes after the end marker', () => {
      const f = fx!.fixtures.find((x) => x.name === 'text')!;
      const c = new Uint8Array([...f.compressed, 0]);
      expect(() => decode(c, f.input.length)).toThrow(/not consumed/);
    });

    it('never hangs or throws anything but CodecError on corrupted streams', () => {
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const t0 = performance.now();
      let thrown = 0;
      for (const f of fx!.fixtures) {
        for (let k = 0; k < 40; k++) {
          const c = f.compressed.slice();
          const flips = 1 + Math.floor(rand() * 4);
          for (let j = 0; j < flips; j++) c[Math.floor(rand() * c.length)] ^= 1 + Math.floor(rand() * 255);
          try {
            const out = decode(c, f.input.length);
            expect(out.length).toBeLessThanOrEqual(f.input.length);
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
            thrown++;
          }
        }
      }
      expect(thrown).toBeGreaterThan(400); // most corruptions are detected
      expect(performance.now() - t0).toBeLessThan(5000);
    });
  });

  describe(`lzo1x (${impl}) hand-made streams`, () => {
    it('decodes a literal-only stream and the end marker', () => {
      // first byte 17+5: 5 literals, then M4 end marker 0x11 0x00 0x00
      const s = new Uint8Array([22, 104, 101, 108, 108, 111, 0x11, 0, 0]);
      expect(new TextDecoder().decode(decode(s, 5))).toBe('hello');
    });
    it('rejects a back-reference before the start of the output', () => {
      // 4 literals, then M2 (t=0x40+...) with distance beyond 4
      const s = new Uint8Array([21, 1, 2, 3, 4, 0x7c, 0xff, 0x11, 0, 0]);
      expect(() => decode(s, 100)).toThrow(/back-reference/);
    });
    it('rejects empty input and a missing end marker', () => {
      expect(() => decode(new Uint8Array(0), 10)).toThrow(CodecError);
      expect(() => decode(new Uint8Array([22, 104, 101, 108, 108, 111]), 10)).toThrow(/input overrun/);
    });
    it('terminates on a long run of zero length bytes', () => {
      const s = new Uint8Array(1 << 20); // literal run with a long-form length that never ends
      expect(() => decode(s, 4096)).toThrow(CodecError);
    });
  });
}
