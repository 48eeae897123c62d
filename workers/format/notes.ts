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
      warnings?.push(`ELF note at offset ${o} runs past the end of the note segment; later notes ignored`);
      break;
    }
    out.push({ name: cstr(b, nameOff, namesz), type, desc: b.subarray(descOff, descOff + descsz) });
    o = next;
  }
  return out;
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
