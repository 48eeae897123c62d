/**
 * How script values become text and JSON, for the CLI's --script and the browser's Script panel
 * (one helper: both print the same thing).
 */

/** JSON of script values: bigints as "0x..." strings, byte arrays as arrays of numbers. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (v instanceof Uint8Array) return Array.from(v);
  return v;
}

/** Text of a value for print(): bigints in hex, objects as JSON. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, jsonReplacer);
  return String(v);
}

/** A script's value as plain JSON data (what JSON.stringify with jsonReplacer keeps), or undefined. */
export function plainValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  const s = JSON.stringify(v, jsonReplacer);
  return s === undefined ? undefined : JSON.parse(s);
}
