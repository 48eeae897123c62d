/**
 * DWARF line number programs (.debug_line, versions 2-5): run once per unit into a row table
 * sorted by address; a lookup gives the row covering an address, with addr2line's rules: within
 * a sequence, the last row at the greatest address <= pc, unless that row ends the sequence.
 */
import { DumpError } from '../../errors';
import { Cursor, type AttrValue } from './cursor';
import { floorIndex } from '../../sorted';
import { FORM } from './consts';

/** What the line-table reader needs of the unit it belongs to (dwarf.ts's Unit has it). */
export interface LineUnit {
  addrSize: number;
  compDir: string;
}

/** What the line-table reader needs of the DWARF reader (dwarf.ts's Dwarf has it; no import back). */
export interface LineDwarf<U extends LineUnit = LineUnit> {
  slice(name: string, off: number, len: number): Uint8Array;
  str(off: number): string;
  lineStr(off: number): string;
  skipForm(c: Cursor, form: number, u: U): void;
  /** one attribute value of the unit (dwarf.ts's readForm: the one form reader) */
  readForm(c: Cursor, form: number, u: U): AttrValue | null;
}

export interface LineRow {
  address: bigint;
  file: number;
  line: number;
  column: number;
  isStmt: boolean;
}

export interface SourceLine {
  /** path as addr2line prints it (directory joined like binutils' concat_filename) */
  file: string;
  line: number;
  column: number;
}

const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

export class LineTable {
  constructor(
    readonly version: number,
    readonly dirs: string[],
    readonly files: Array<{ name: string; dir: number }>,
    /** rows sorted by address; end_sequence rows have endSeq set */
    readonly addr: BigUint64Array,
    readonly fileOf: Uint32Array,
    readonly lineOf: Uint32Array,
    readonly colOf: Uint32Array,
    readonly endSeq: Uint8Array,
    private compDir: string,
    /** every row as the program emitted it (for gdb's rules, see gdbLookup) */
    private raw: RawRows,
  ) {}

  private gdb: GdbTables | null = null;

  /**
   * The source line gdb (and so crash's dis -l and sym) gives an address: gdb builds one table per
   * source file (dwarf2/read.c lnp_state_machine::record_line, buildsym.c record_line: a switch of
   * file ends the old file's run at that address, dropping its entries there; rows of the same
   * line are merged unless discriminators differ; a non-statement row switching files at an
   * address that already had a statement row is ignored), then takes the file whose last entry at
   * or below pc is highest (a file whose run ended there does not count), preferring a statement
   * entry at that address (symtab.c find_pc_sect_line). Checked against crash 9.0.2's dis -l.
   */
  gdbLookup(pc: bigint): SourceLine | null {
    this.gdb ??= buildGdbTables(this);
    let best: GdbEntry | null = null;
    let bestFile = '';
    for (const [file, t] of this.gdb) {
      const ans = floorIndex(t.length, (i) => t[i].pc, pc);
      if (ans < 0) continue;
      let prev = t[ans];
      if (prev.line === 0) continue; // this file's run ended here: another file has the line
      if (best && prev.pc <= best.pc) continue;
      if (!prev.isStmt) {
        let k = ans;
        while (k > 0 && t[k - 1].pc === t[k].pc && t[k - 1].line !== 0 && !t[k].isStmt) k--;
        if (t[k].isStmt) prev = t[k];
      }
      best = prev;
      bestFile = file;
    }
    if (!best || best.line === 0) return null;
    return { file: bestFile, line: best.line, column: 0 };
  }

  get bytes(): number {
    return this.addr.length * 21 + this.raw.addr.length * 60 + 64 * this.files.length;
  }

  /** A file's path as addr2line prints it (binutils dwarf2.c concat_filename). */
  fileName(index: number): string {
    const f = this.files[index];
    if (!f) return '??';
    if (f.name.startsWith('/')) return f.name;
    // DWARF 5 numbers directories from 0 (the unit's own directory), earlier versions from 1
    let sub: string | undefined;
    if (this.version >= 5) sub = this.dirs[f.dir];
    else if (f.dir > 0) sub = this.dirs[f.dir - 1];
    let dir: string | undefined;
    if (!sub || !sub.startsWith('/')) dir = this.compDir || undefined;
    if (!dir) {
      dir = sub;
      sub = undefined;
    }
    if (!dir) return f.name;
    if (sub && sub !== dir) return `${dir}/${sub}/${f.name}`;
    return `${dir}/${f.name}`;
  }

  /** Index of the row covering pc, or -1. */
  rowFor(pc: bigint): number {
    const a = this.addr;
    const ans = floorIndex(a.length, (i) => a[i], pc);
    if (ans < 0) return -1;
    // among rows at that address prefer a row that does not end a sequence (the next one starts there)
    let i = ans;
    while (i >= 0 && a[i] === a[ans] && this.endSeq[i]) i--;
    if (i < 0 || a[i] !== a[ans]) return -1;
    return i;
  }

  lookup(pc: bigint): SourceLine | null {
    const i = this.rowFor(pc);
    if (i < 0) return null;
    return { file: this.fileName(this.fileOf[i]), line: this.lineOf[i], column: this.colOf[i] };
  }

  /** The address range [start, end) of the row covering pc (dis -l groups instructions by it). */
  rowRange(i: number): { start: bigint; end: bigint } {
    let j = i + 1;
    while (j < this.addr.length && this.addr[j] === this.addr[i]) j++;
    return { start: this.addr[i], end: j < this.addr.length ? this.addr[j] : this.addr[i] + 1n };
  }
}

function readEntryFormats(c: Cursor): Array<[number, number]> {
  const n = c.u8();
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) out.push([c.uleb(), c.uleb()]);
  return out;
}

/**
 * A directory or file entry's field (DWARF 5): a string or a number, null for other values (an
 * MD5, a block). The string offsets are of the line table's own offset size; every other form
 * is read by the DWARF reader's readForm.
 */
function readEntryValue<U extends LineUnit>(d: LineDwarf<U>, u: U, c: Cursor, form: number, offSize: number): string | number | null {
  if (form === FORM.line_strp) return d.lineStr(c.offset(offSize));
  if (form === FORM.strp) return d.str(c.offset(offSize));
  const v = d.readForm(c, form, u);
  return v?.k === 'str' || v?.k === 'u' ? v.v : null;
}

export interface RawRows {
  addr: bigint[];
  file: number[];
  line: number[];
  stmt: boolean[];
  disc: number[];
  end: boolean[];
}

interface GdbEntry {
  pc: bigint;
  line: number;
  isStmt: boolean;
}
type GdbTables = Map<string, GdbEntry[]>;

/** gdb's per-file line tables of a unit (see LineTable.gdbLookup). */
function buildGdbTables(t: LineTable): GdbTables {
  const raw = (t as unknown as { raw: RawRows }).raw;
  const tables: GdbTables = new Map();
  const order: string[] = [];
  const recordLine = (file: string, line: number, pc: bigint, isStmt: boolean) => {
    let v = tables.get(file);
    if (!v) {
      v = [];
      tables.set(file, v);
      order.push(file);
    }
    if (line === 0) {
      let lastLine: number | undefined;
      while (v.length) {
        const last = v[v.length - 1];
        lastLine = last.line;
        if (last.pc !== pc) break;
        v.pop();
      }
      if (lastLine === undefined || lastLine === 0) return;
    }
    v.push({ pc, line, isStmt });
  };
  let lastFile: string | null = null;
  let lastLine = 0;
  let lastAddress = -1n;
  let nonZeroDisc = false;
  let stmtAtAddress = false;
  let regLine = 1; // the state machine's line register at the previous row of the sequence
  for (let i = 0; i < raw.addr.length; i++) {
    const address = raw.addr[i];
    const file = t.fileName(raw.file[i]);
    const line = raw.line[i];
    const end = raw.end[i];
    // lnp_state_machine: advance_line with a delta resets the flag to this row's discriminator
    if (line !== regLine) nonZeroDisc = raw.disc[i] !== 0;
    else if (raw.disc[i]) nonZeroDisc = true;
    regLine = line;
    const fileChanged = lastFile !== file;
    // a non-statement row switching files at an address that already had a statement row is ignored
    const ignore = (fileChanged && !end && lastAddress === address && !raw.stmt[i] && stmtAtAddress) || (!end && line === 0);
    if (((fileChanged && !ignore) || end) && lastFile !== null) recordLine(lastFile, 0, address, true);
    if (!end && !ignore) {
      if (fileChanged || line !== lastLine || !nonZeroDisc) recordLine(file, line, address, raw.stmt[i]);
      lastFile = file;
      lastLine = line;
    }
    if (lastAddress !== address) {
      stmtAtAddress = false;
      lastAddress = address;
    }
    stmtAtAddress ||= raw.stmt[i];
    if (end) {
      lastFile = null;
      lastLine = 0;
      lastAddress = -1n;
      stmtAtAddress = false;
      nonZeroDisc = false;
      regLine = 1;
    }
  }
  for (const v of tables.values()) {
    // stable: by address, end markers (line 0) first at one address
    v.sort((a, b) => (a.pc !== b.pc ? (a.pc < b.pc ? -1 : 1) : (a.line === 0) !== (b.line === 0) ? (a.line === 0 ? -1 : 1) : 0));
  }
  // gdb looks at the unit's main file first, then the others, newest first
  const main = t.fileName(t.files.length > 1 && t.version < 5 ? 1 : 0);
  const sorted: GdbTables = new Map();
  if (tables.has(main)) sorted.set(main, tables.get(main)!);
  for (const f of order.reverse()) if (!sorted.has(f)) sorted.set(f, tables.get(f)!);
  return sorted;
}

export function parseLineTable<U extends LineUnit>(d: LineDwarf<U>, u: U, off: number): LineTable {
  const head = d.slice('.debug_line', off, 12);
  const hc = new Cursor(head);
  const { len, offSize } = hc.initialLength();
  const buf = d.slice('.debug_line', off, hc.pos + len);
  const c = new Cursor(buf, hc.pos);
  const version = c.u16();
  if (version < 2 || version > 5) throw new DumpError(`DWARF: line table at 0x${off.toString(16)} has version ${version}`);
  let addrSize = u.addrSize;
  if (version >= 5) {
    addrSize = c.u8();
    c.u8(); // segment selector size
  }
  const headerLen = c.offset(offSize);
  const progStart = c.pos + headerLen;
  const minInst = c.u8();
  const maxOps = version >= 4 ? c.u8() : 1;
  const defaultIsStmt = c.u8() !== 0;
  const lineBase = c.i8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  const stdLens: number[] = [0];
  for (let i = 1; i < opcodeBase; i++) stdLens.push(c.u8());
  if (lineRange === 0) throw new DumpError(`DWARF: line table at 0x${off.toString(16)}: line_range 0`);
  void maxOps;

  const dirs: string[] = [];
  const files: Array<{ name: string; dir: number }> = [];
  if (version >= 5) {
    const df = readEntryFormats(c);
    const nd = c.uleb();
    for (let i = 0; i < nd; i++) {
      let path = '';
      for (const [type, form] of df) {
        const v = readEntryValue(d, u, c, form, offSize);
        if (type === DW_LNCT_path && typeof v === 'string') path = v;
      }
      dirs.push(path);
    }
    const ff = readEntryFormats(c);
    const nf = c.uleb();
    for (let i = 0; i < nf; i++) {
      let name = '';
      let dir = 0;
      for (const [type, form] of ff) {
        const v = readEntryValue(d, u, c, form, offSize);
        if (type === DW_LNCT_path && typeof v === 'string') name = v;
        else if (type === DW_LNCT_directory_index && typeof v === 'number') dir = v;
      }
      files.push({ name, dir });
    }
  } else {
    for (;;) {
      const s = c.cstr();
      if (!s) break;
      dirs.push(s);
    }
    files.push({ name: '', dir: 0 }); // file numbers start at 1
    for (;;) {
      const name = c.cstr();
      if (!name) break;
      const dir = c.uleb();
      c.uleb();
      c.uleb();
      files.push({ name, dir });
    }
  }

  // run the program
  const A: bigint[] = [];
  const F: number[] = [];
  const L: number[] = [];
  const C: number[] = [];
  const E: number[] = [];
  const raw: RawRows = { addr: [], file: [], line: [], stmt: [], disc: [], end: [] };
  let disc = 0;
  c.pos = progStart;
  let address = 0n;
  let file = 1;
  let line = 1;
  let column = 0;
  let isStmt = defaultIsStmt;
  const reset = () => {
    address = 0n;
    file = 1;
    line = 1;
    column = 0;
    isStmt = defaultIsStmt;
  };
  // rows of one sequence, then appended: addr2line keeps only the last row at an address
  const emit = (end: boolean) => {
    raw.addr.push(address); raw.file.push(file); raw.line.push(line); raw.stmt.push(isStmt); raw.disc.push(disc); raw.end.push(end);
    disc = 0;
    const n = A.length;
    if (n > 0 && A[n - 1] === address && !E[n - 1] && !end) {
      F[n - 1] = file; L[n - 1] = line; C[n - 1] = column;
      return;
    }
    A.push(address); F.push(file); L.push(line); C.push(column); E.push(end ? 1 : 0);
  };
  void isStmt;
  while (c.pos < c.end) {
    const op = c.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      address += BigInt(Math.floor(adj / lineRange) * minInst);
      line += lineBase + (adj % lineRange);
      emit(false);
    } else if (op === 0) {
      const n = c.uleb();
      const next = c.pos + n;
      const ext = n ? c.u8() : 0;
      if (ext === 1) {
        emit(true);
        reset();
      } else if (ext === 2) address = c.addr(addrSize);
      else if (ext === 4) disc = c.uleb();
      else if (ext === 3) {
        const name = c.cstr();
        const dir = c.uleb();
        files.push({ name, dir });
      }
      c.pos = next;
    } else {
      switch (op) {
        case 1: emit(false); break; // copy
        case 2: address += BigInt(c.uleb() * minInst); break;
        case 3: line += c.sleb(); break;
        case 4: file = c.uleb(); break;
        case 5: column = c.uleb(); break;
        case 6: isStmt = !isStmt; break;
        case 7: break;
        case 8: address += BigInt(Math.floor((255 - opcodeBase) / lineRange) * minInst); break;
        case 9: address += BigInt(c.u16()); break;
        case 10: case 11: break;
        case 12: c.uleb(); break;
        default:
          for (let k = 0; k < stdLens[op]; k++) c.uleb();
      }
    }
  }
  // sort sequences by address (stable: rows of one sequence keep their order)
  const idx = A.map((_, i) => i);
  // sequences: split at end rows
  const seqs: number[][] = [];
  let cur: number[] = [];
  for (const i of idx) {
    cur.push(i);
    if (E[i]) {
      seqs.push(cur);
      cur = [];
    }
  }
  if (cur.length) seqs.push(cur);
  // drop sequences at address 0 (discarded code: functions the linker removed)
  const kept = seqs.filter((s) => A[s[0]] !== 0n);
  kept.sort((x, y) => (A[x[0]] < A[y[0]] ? -1 : A[x[0]] > A[y[0]] ? 1 : 0));
  const order = kept.flat();
  const n = order.length;
  const addr = new BigUint64Array(n);
  const fileOf = new Uint32Array(n);
  const lineOf = new Uint32Array(n);
  const colOf = new Uint32Array(n);
  const endSeq = new Uint8Array(n);
  order.forEach((i, k) => {
    addr[k] = A[i];
    fileOf[k] = F[i];
    lineOf[k] = L[i];
    colOf[k] = C[i];
    endSeq[k] = E[i];
  });
  return new LineTable(version, dirs, files, addr, fileOf, lineOf, colOf, endSeq, u.compDir, raw);
}
