/**
 * Editors kept while their dump is open (the console's Monaco command line): leaving a panel
 * detaches its editor instead of disposing it, and coming back re-attaches it. Creating a Monaco
 * editor is a main-thread task of 100-300 ms and disposing one 50-80 ms, which every switch to and
 * from the console used to pay. Closing the dump's tab disposes them (app/store). No Monaco here:
 * the store imports this without loading the editor.
 */
const kept = new Map<string, Array<() => void>>();

/** Remember how to dispose an editor kept for `session`. */
export function keepEditor(session: string, dispose: () => void): void {
  const l = kept.get(session) ?? [];
  l.push(dispose);
  kept.set(session, l);
}

/** Dispose the editors kept for a dump whose tab is closed. */
export function disposeKeptEditors(session: string): void {
  for (const d of kept.get(session) ?? []) d();
  kept.delete(session);
}
