import { DumpError } from '../errors';
import type { ByteSource } from '../source/bytesource';
import { ElfDump, isElf } from './elf';
import type { PhysicalDump } from './types';

/** What the first bytes of a file say it is. */
export function sniff(head: Uint8Array): string {
  const ascii = new TextDecoder('latin1').decode(head.subarray(0, 16));
  if (isElf(head)) return 'elf';
  if (ascii.startsWith('KDUMP   ')) return 'kdump';
  if (ascii.startsWith('DISKDUMP')) return 'diskdump';
  if (ascii.startsWith('makedumpfile')) return 'flattened';
  if (head[0] === 0xfd && ascii.startsWith('\xfd7zXZ')) return 'xz';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (ascii.startsWith('BZh')) return 'bzip2';
  if (ascii.startsWith('LiME') || (head[0] === 0x45 && head[1] === 0x4d && head[2] === 0x69 && head[3] === 0x4c)) return 'lime';
  return 'unknown';
}

export interface FormatHandlers {
  openKdump?: (src: ByteSource) => PhysicalDump;
  openFlattened?: (src: ByteSource) => ByteSource;
}

/** Open a dump file as physical memory, or throw a one-line DumpError saying why not. */
export function openPhysical(src: ByteSource, handlers: FormatHandlers): PhysicalDump {
  if (src.size === 0) throw new DumpError(`${src.name}: empty file`);
  const head = src.read(0, Math.min(4096, src.size));
  const kind = sniff(head);
  switch (kind) {
    case 'elf':
      try {
        return new ElfDump(src);
      } catch (e) {
        if (e instanceof DumpError) throw e;
        // a corrupt field we did not foresee is still bad input, said in one line
        throw new DumpError(`${src.name}: unreadable ELF headers (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
      }
    case 'kdump':
    case 'diskdump':
      if (!handlers.openKdump) throw new DumpError(`${src.name}: kdump-compressed dumps are not supported in this build`);
      return handlers.openKdump(src);
    case 'flattened': {
      if (!handlers.openFlattened || !handlers.openKdump) throw new DumpError(`${src.name}: flattened dumps are not supported in this build`);
      return handlers.openKdump(handlers.openFlattened(src));
    }
    case 'xz':
    case 'gzip':
    case 'zstd':
    case 'bzip2':
      throw new DumpError(
        `${src.name}: this is a ${kind}-compressed file, not a dump; decompress it first (e.g. ${kind === 'xz' ? 'xz -dk' : kind === 'gzip' ? 'gunzip -k' : kind === 'zstd' ? 'zstd -d' : 'bunzip2 -k'} FILE)`,
      );
    case 'lime':
      throw new DumpError(`${src.name}: LiME memory images are not supported yet (only ELF and kdump-compressed vmcores)`);
    default: {
      const bytes = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new DumpError(`${src.name}: not a vmcore (expected an ELF core or a kdump-compressed file; first bytes ${bytes})`);
    }
  }
}
