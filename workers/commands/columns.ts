/** crash's mkstring(s, w, CENTER): s centred in w columns (the extra space on the right); s as it is when longer. */
export function center(s: string, w: number): string {
  const l = Math.max(0, Math.floor((w - s.length) / 2));
  return (' '.repeat(l) + s).padEnd(w);
}
