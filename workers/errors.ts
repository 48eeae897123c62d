import { noteProblem } from './problems';

/**
 * Errors of the engine. Two kinds only:
 * - DumpError: the input is not usable (missing file, not a dump, corrupt header). Its message is
 *   one line meant for the user; the CLI prints it and exits 1.
 * - MemoryError: one read of memory failed (page not in the dump, unmapped address, corrupt page).
 *   Analyses catch it and turn it into a finding; it never kills a whole command.
 */
export class DumpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DumpError';
  }
}

/** A long command or scan stopped because the user cancelled it. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

export type MemoryErrorKind =
  | 'not-in-dump' // the page exists in the machine but the dump excluded it (makedumpfile -d, incomplete dump)
  | 'no-such-memory' // no RAM at that physical address in the dump at all
  | 'unmapped' // the virtual address has no translation
  | 'truncated' // the dump file ends before the page's data
  | 'corrupt'; // the page's data could not be decompressed or decoded

export class MemoryError extends Error {
  constructor(
    readonly kind: MemoryErrorKind,
    readonly address: bigint,
    readonly space: 'physical' | 'virtual',
    detail?: string,
  ) {
    super(
      `${space} address 0x${address.toString(16)}: ${kindText(kind)}${detail ? ` (${detail})` : ''}`,
    );
    this.name = 'MemoryError';
    // damage (not a page the dump left out by design, not an unmapped address): the running
    // command's answer carries it even if the code that met it recovers
    if (space === 'physical' && (kind === 'truncated' || kind === 'corrupt')) {
      noteProblem(`memory:${kind}`, `unreadable memory: ${this.message}`);
    }
  }
}

/** Whether a read failure means damage or a dump that cannot show the page (vs. "not mapped"). */
export function isUnreadable(e: MemoryError): boolean {
  return e.kind !== 'unmapped';
}

function kindText(kind: MemoryErrorKind): string {
  switch (kind) {
    case 'not-in-dump':
      return 'page not in dump';
    case 'no-such-memory':
      return 'no memory at this address in the dump';
    case 'unmapped':
      return 'not mapped';
    case 'truncated':
      return 'dump file is truncated before this page';
    case 'corrupt':
      return 'page data is corrupt';
  }
}

/** A one-line message for any thrown value, never a stack trace. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e).split('\n')[0];
}
