/**
 * What a call did, as one comparable string (tests comparing two implementations): the bytes it
 * returned as hex, "no error" for any other result, or its error's class and message.
 */
export function outcomeOf(f: () => unknown): string {
  try {
    const r = f();
    return r instanceof Uint8Array ? Buffer.from(r).toString('hex') : 'no error';
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}
