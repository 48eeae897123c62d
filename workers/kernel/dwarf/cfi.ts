/**
 * Call frame information from .debug_frame (DWARF CIE/FDE, versions 1, 3 and 4): where a function
 * saved the callee-saved registers of its caller at a given pc. The unwinder (ORC) finds the
 * frames and their stack pointers; this adds the registers ORC does not track, so that the
 * variables of a caller frame living in rbx, rbp or r12-r15 can be read.
 */
import { Cursor } from './cursor';
import { floorIndex } from '../../sorted';

export interface CfiRow {
  /** register -> offset from the CFA where the caller's value is saved */
  saved: Map<number, number>;
  /** registers whose value in the caller is unknown (DW_CFA_undefined) */
  undefinedRegs: Set<number>;
}

interface Cie {
  codeAlign: number;
  dataAlign: number;
  addrSize: number;
  initial: Uint8Array;
}

interface Fde {
  start: bigint;
  end: bigint;
  cie: Cie;
  insns: Uint8Array;
}

export class DebugFrame {
  private fdes: Fde[] = [];

  constructor(data: Uint8Array, addrSize = 8) {
    const cies = new Map<number, Cie>();
    const c = new Cursor(data);
    const pending: Array<{ cieOff: number; start: bigint; len: bigint; insns: Uint8Array }> = [];
    while (c.pos + 4 <= c.end) {
      const at = c.pos;
      const { len, offSize } = c.initialLength();
      const off64 = offSize === 8;
      if (len === 0) continue;
      const bodyStart = c.pos;
      const next = bodyStart + len;
      const idBig = off64 ? c.u64() : BigInt(c.u32());
      const isCie = off64 ? idBig === 0xffffffffffffffffn : idBig === 0xffffffffn;
      const id = Number(idBig);
      if (isCie) {
        const version = c.u8();
        const aug = c.cstr();
        let asz = addrSize;
        if (version >= 4) {
          asz = c.u8();
          c.u8(); // segment size
        }
        const codeAlign = c.uleb();
        const dataAlign = c.sleb();
        if (version === 1) c.u8();
        else c.uleb(); // return address register
        if (aug.startsWith('z')) c.skip(c.uleb()); // augmentation data (not expected in .debug_frame)
        cies.set(at, { codeAlign, dataAlign, addrSize: asz, initial: data.subarray(c.pos, next) });
      } else {
        const start = c.addr(addrSize);
        const range = c.addr(addrSize);
        pending.push({ cieOff: id, start, len: range, insns: data.subarray(c.pos, next) });
      }
      c.pos = next;
    }
    for (const p of pending) {
      const cie = cies.get(p.cieOff);
      if (!cie || p.start === 0n) continue;
      this.fdes.push({ start: p.start, end: p.start + p.len, cie, insns: p.insns });
    }
    this.fdes.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  get size(): number {
    return this.fdes.length;
  }

  /** The save rules in effect at pc (a link-time address), or null when no FDE covers it. */
  rowAt(pc: bigint): CfiRow | null {
    const f = this.fdes;
    const ans = floorIndex(f.length, (i) => f[i].start, pc);
    if (ans < 0 || pc >= f[ans].end) return null;
    const fde = f[ans];
    const initial: CfiRow = { saved: new Map(), undefinedRegs: new Set() };
    run(fde.cie.initial, fde.cie, fde.start, -1n, initial, null);
    const row: CfiRow = { saved: new Map(initial.saved), undefinedRegs: new Set(initial.undefinedRegs) };
    run(fde.insns, fde.cie, fde.start, pc, row, initial);
    return row;
  }
}

/** Run CFA instructions from `loc` until the location passes pc (pc < 0: run all). */
function run(insns: Uint8Array, cie: Cie, start: bigint, pc: bigint, row: CfiRow, initial: CfiRow | null): void {
  const c = new Cursor(insns);
  let loc = start;
  const stack: CfiRow[] = [];
  const advance = (delta: number): boolean => {
    loc += BigInt(delta * cie.codeAlign);
    return pc >= 0n && loc > pc;
  };
  const restore = (r: number) => {
    const v = initial?.saved.get(r);
    if (v === undefined) row.saved.delete(r);
    else row.saved.set(r, v);
    row.undefinedRegs.delete(r);
  };
  for (let steps = 0; c.pos < c.end && steps < 100000; steps++) {
    const op = c.u8();
    const hi2 = op >> 6;
    const low = op & 0x3f;
    if (hi2 === 1) {
      if (advance(low)) return;
      continue;
    }
    if (hi2 === 2) {
      row.saved.set(low, c.uleb() * cie.dataAlign);
      continue;
    }
    if (hi2 === 3) {
      restore(low);
      continue;
    }
    switch (op) {
      case 0x00: break;
      case 0x01: loc = c.addr(cie.addrSize); if (pc >= 0n && loc > pc) return; break;
      case 0x02: if (advance(c.u8())) return; break;
      case 0x03: if (advance(c.u16())) return; break;
      case 0x04: if (advance(c.u32())) return; break;
      case 0x05: { const r = c.uleb(); row.saved.set(r, c.uleb() * cie.dataAlign); break; }
      case 0x06: restore(c.uleb()); break;
      case 0x07: { const r = c.uleb(); row.saved.delete(r); row.undefinedRegs.add(r); break; }
      case 0x08: { const r = c.uleb(); row.saved.delete(r); row.undefinedRegs.delete(r); break; }
      case 0x09: { const r = c.uleb(); c.uleb(); row.saved.delete(r); row.undefinedRegs.add(r); break; }
      case 0x0a: stack.push({ saved: new Map(row.saved), undefinedRegs: new Set(row.undefinedRegs) }); break;
      case 0x0b: { const s = stack.pop(); if (s) { row.saved = s.saved; row.undefinedRegs = s.undefinedRegs; } break; }
      case 0x0c: c.uleb(); c.uleb(); break; // def_cfa: the CFA comes from the unwinder
      case 0x0d: c.uleb(); break;
      case 0x0e: c.uleb(); break;
      case 0x0f: c.skip(c.uleb()); break;
      case 0x10: { const r = c.uleb(); c.skip(c.uleb()); row.saved.delete(r); row.undefinedRegs.add(r); break; }
      case 0x11: { const r = c.uleb(); row.saved.set(r, c.sleb() * cie.dataAlign); break; }
      case 0x12: c.uleb(); c.sleb(); break;
      case 0x13: c.sleb(); break;
      case 0x14: case 0x15: { const r = c.uleb(); if (op === 0x14) c.uleb(); else c.sleb(); row.saved.delete(r); row.undefinedRegs.add(r); break; }
      case 0x16: { const r = c.uleb(); c.skip(c.uleb()); row.saved.delete(r); row.undefinedRegs.add(r); break; }
      case 0x2e: c.uleb(); break;
      case 0x2f: { const r = c.uleb(); row.saved.set(r, -c.uleb() * cie.dataAlign); break; }
      default: return; // unknown: stop with what is known
    }
  }
}
