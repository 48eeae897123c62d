import { u32, u64, cstr } from '../bytes';
import { X86_64_PRSTATUS_REGS, type ElfNote, type PrStatus } from './types';

export const NT_PRSTATUS = 1;
/** VMCOREINFO note type in "VMCOREINFO" notes (kdump and QEMU's vmcoreinfo device) */
export const NT_VMCOREINFO = 0;

/** Parse a run of ELF notes (namesz, descsz, type, name, desc; 4-byte aligned). Bounded. */
export function parseNotes(b: Uint8Array, warnings?: string[]): ElfNote[] {
  const out: ElfNote[] = [];
  let o = 0;
  while (o + 12 <= b.length) {
    const namesz = u32(b, o);
    const descsz = u32(b, o + 4);
    const type = u32(b, o + 8);
    if (namesz === 0 && descsz === 0 && type === 0) break; // padding
    const nameOff = o + 12;
    const descOff = nameOff + align4(namesz);
    const next = descOff + align4(descsz);
    if (namesz > 4096 || descOff + descsz > b.length) {
      // a damaged note header: the notes after it (VMCOREINFO is often the last) are still
      // there; resume at the next header that names VMCOREINFO, if any
      const resume = findVmcoreinfoNote(b, o + 16);
      warnings?.push(
        resume < 0
          ? `ELF note at offset ${o} is damaged (name size ${namesz}, desc size ${descsz}, ${b.length - o} bytes left); later notes ignored`
          : `ELF note at offset ${o} is damaged (name size ${namesz}, desc size ${descsz}); notes up to offset ${resume} skipped`,
      );
      if (resume < 0) break;
      o = resume;
      continue;
    }
    out.push({ name: cstr(b, nameOff, namesz), type, desc: b.subarray(descOff, descOff + descsz) });
    o = next;
  }
  return out;
}

/** Offset of the next note header at or after `from` whose name is "VMCOREINFO", or -1. */
function findVmcoreinfoNote(b: Uint8Array, from: number): number {
  const name = [0x56, 0x4d, 0x43, 0x4f, 0x52, 0x45, 0x49, 0x4e, 0x46, 0x4f, 0]; // "VMCOREINFO\0"
  for (let q = Math.max(from, 12); q + name.length <= b.length; q++) {
    if (b[q] !== 0x56) continue;
    let ok = true;
    for (let k = 1; k < name.length && ok; k++) ok = b[q + k] === name[k];
    if (!ok) continue;
    const h = q - 12;
    if ((h & 3) === 0 && u32(b, h) === name.length && h + 12 + 12 + u32(b, h + 4) <= b.length) return h;
  }
  return -1;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** VMCOREINFO text from the notes, or null. */
export function vmcoreinfoFromNotes(notes: ElfNote[]): string | null {
  const n = notes.find((x) => x.name === 'VMCOREINFO');
  if (!n) return null;
  return new TextDecoder('latin1').decode(n.desc).replace(/\0+$/, '');
}

/** x86_64 elf_prstatus: pr_pid at 32, pr_reg at 112 (27 x u64). */
export function parsePrStatus(notes: ElfNote[]): PrStatus[] {
  const out: PrStatus[] = [];
  for (const n of notes) {
    if (n.type !== NT_PRSTATUS || n.name !== 'CORE') continue;
    const d = n.desc;
    if (d.length < 112 + 27 * 8) continue;
    const regs: Record<string, bigint> = {};
    X86_64_PRSTATUS_REGS.forEach((r, i) => (regs[r] = u64(d, 112 + i * 8)));
    out.push({ index: out.length, pid: u32(d, 32), regs });
  }
  return out;
}
