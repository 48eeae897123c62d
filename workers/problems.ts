/**
 * Problems met while a command runs: damage the engine detected (a page that cannot be trusted,
 * a read past the end of a truncated dump, a page that does not decompress, a walk that broke)
 * that must reach the user with the answer, in text and in JSON, even when the code that met
 * it recovered and went on.
 *
 * Engine reads are synchronous and one command runs at a time, so the collector is the one of
 * the command running now: any layer (format, arch, kernel, analysis) calls noteProblem() and
 * runCommand (workers/commands/registry.ts) hands what was collected to the command's result.
 * Outside a command, notes go nowhere.
 */
export interface ProblemCollector {
  /** distinct problems by key, with how many times each was met */
  items: Map<string, { message: string; count: number }>;
}

const stack: ProblemCollector[] = [];

/** Record a problem under `key` (the same key met again counts, it does not repeat). */
export function noteProblem(key: string, message: string): void {
  for (const c of stack) {
    const it = c.items.get(key);
    if (it) it.count++;
    else if (c.items.size < 64) c.items.set(key, { message, count: 1 });
  }
}

/** Run `fn` collecting the problems noted meanwhile (nested collections see them too). */
export function collectProblems<T>(fn: () => T): { value: T; problems: string[] } {
  const c: ProblemCollector = { items: new Map() };
  stack.push(c);
  try {
    const value = fn();
    return { value, problems: problemList(c) };
  } finally {
    const i = stack.lastIndexOf(c);
    if (i >= 0) stack.splice(i, 1);
  }
}

/** The problems of the innermost running collection so far (for a command's own JSON). */
export function currentProblems(): string[] {
  const c = stack[stack.length - 1];
  return c ? problemList(c) : [];
}

function problemList(c: ProblemCollector): string[] {
  return [...c.items.values()].map((i) => (i.count > 1 ? `${i.message} (${i.count} times)` : i.message));
}
