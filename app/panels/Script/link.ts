/**
 * A script in a permalink: the Script panel's source, deflated (fflate) and base64url-encoded,
 * as the `code` param of the script view (`#/<fingerprint>/script?code=...`). Only the source is
 * in it, never anything read from the dump. Opening such a link puts the source in the editor and
 * does not run it: a link is something pasted from a chat, and it must not run code on open.
 */
import { deflateSync, inflateSync, strFromU8, strToU8 } from 'fflate';

/** The longest `code` param we put in a link (characters): chat tools and browsers cut longer URLs. */
export const MAX_CODE_CHARS = 6000;

function toBase64Url(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

/** The `code` param for `source`. */
export function encodeScript(source: string): string {
  return toBase64Url(deflateSync(strToU8(source), { level: 9 }));
}

/** The source in a `code` param; throws when it is not one (cut short, mistyped). */
export function decodeScript(code: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(code)) throw new Error('not a script link (unexpected characters)');
  return strFromU8(inflateSync(fromBase64Url(code)));
}
