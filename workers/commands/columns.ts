/** crash's mkstring(s, w, CENTER): s centred in w columns, the odd space on the right (on the left with
 *  crash's RJUST as well: `rjust`); s as it is when longer. */
export function center(s: string, w: number, rjust = false): string {
  if (s.length >= w) return s;
  const extra = w - s.length;
  const half = Math.floor(extra / 2);
  const left = extra % 2 && rjust ? half + 1 : half;
  return ' '.repeat(left) + s + ' '.repeat(extra - left);
}
