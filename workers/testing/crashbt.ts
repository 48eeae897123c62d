/**
 * The frames of a crash-style backtrace, as "function at return-address" (the offset dropped):
 * "#3 [ffff...] __mutex_lock.constprop.0+925 at ffffffff89654d1d [mod]" ->
 * "__mutex_lock.constprop.0 at ffffffff89654d1d". Tests compare bt with crash's `foreach bt -s`.
 */
export function crashFrames(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^ *#\d+ /.test(l))
    .map((l) => {
      const m = /^ *#\d+ \[[0-9a-f]+\] (\S+?)(?:\+\d+)? at ([0-9a-f]+)/.exec(l);
      return m ? `${m[1]} at ${m[2]}` : l.trim();
    });
}
