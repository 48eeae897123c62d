/**
 * Text layout of a struct/union the way crash prints it: `struct sk_buff` (gdb ptype style, no
 * offsets) and `struct -o sk_buff` / `struct -xo sk_buff` (an offset column in front of every
 * member crash can name from the top type). Built on walkLayout, which value printing reuses.
 */
import { Btf, walkLayout, type LayoutItem } from './btf';
import { DumpError } from '../errors';

export interface StructLayoutOptions {
  /** print the offset column (crash `-o`); default true */
  offsets?: boolean;
  /** offsets and SIZE in hex (crash `-x`) */
  hex?: boolean;
}

/**
 * crash's `struct -o TYPE` text, without the trailing blank line:
 * ```
 * struct sk_buff {
 *         union {
 *             struct {
 *     [0]         struct sk_buff *next;
 * ...
 * }
 * SIZE: 232
 * ```
 * The offset column is as wide as the printed SIZE plus 4 ("[" "]" and two spaces of margin).
 */
export function formatStructLayout(btf: Btf, id: number, opts: StructLayoutOptions = {}): string {
  const offsets = opts.offsets ?? true;
  const hex = opts.hex ?? false;
  const r = btf.resolve(id);
  const t = btf.type(r);
  if (t.kind !== 'struct' && t.kind !== 'union') throw new DumpError(`${btf.typeName(id)} is not a struct or union`);
  const num = (n: number) => (hex ? '0x' + n.toString(16) : String(n));
  const sizeText = num(t.size);
  const width = sizeText.length + 4;
  const lines: string[] = [`${t.kind} ${t.name ? t.name + ' ' : ''}{`];
  walkLayout(btf, r, (it) => {
    const text = it.event === 'open' ? it.text : it.text + ';';
    if (!offsets) {
      lines.push('    '.repeat(it.depth + 1) + text);
      return;
    }
    lines.push(offsetColumn(it, width, num) + ' ' + '    '.repeat(it.depth) + text);
  });
  lines.push('}', `SIZE: ${sizeText}`);
  return lines.join('\n');
}

/** The offset column of one layout line: "[128]" right-aligned, or blanks when crash prints none. */
export function offsetColumn(it: LayoutItem, width: number, num: (n: number) => string = String): string {
  const shown = it.event !== 'open' && it.addressable;
  return shown ? `[${num(it.offset)}]`.padStart(width) : ' '.repeat(width);
}
