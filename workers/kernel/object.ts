import { DumpError, MemoryError } from '../errors';
import { u64, cstr } from '../bytes';
import type { Btf, BtfInt } from './btf';
import type { KernelMemory } from './memory';

/** What an object view needs of the program that made it (Program satisfies it; no import of program.ts). */
export interface ObjHost {
  readonly btf: Btf;
  readonly mem: KernelMemory;
  obj(type: string | number, address: bigint): Obj;
}

/**
 * A typed view of kernel memory: a BTF type at an address (drgn's Object, reduced to what the
 * analyses need). Member access follows C, through anonymous members and arrays; reads happen
 * only when a value is asked for. Errors are MemoryError (bad memory) or DumpError (bad type or
 * member name), both with one-line messages.
 */
export class Obj {
  constructor(
    readonly prog: ObjHost,
    /** BTF type id (possibly a typedef; use `rtype` for the resolved one) */
    readonly type: number,
    readonly address: bigint,
    /** for bitfield members: bit offset inside the byte at address, and width */
    readonly bitOffset = 0,
    readonly bitSize = 0,
  ) {}

  get btf(): Btf {
    return this.prog.btf;
  }
  get rtype(): number {
    return this.btf.resolve(this.type);
  }
  get size(): number {
    return this.btf.sizeof(this.type);
  }
  get typeName(): string {
    return this.btf.typeName(this.type);
  }
  get kind(): string {
    return this.btf.kind(this.rtype);
  }

  /** Member by C path ("a.b", "frags[1].bv_len"); through a pointer, use deref() first. */
  member(path: string): Obj {
    const loc = this.btf.memberPath(this.type, path);
    if (!loc) throw new DumpError(`${this.typeName} has no member ${path}`);
    return new Obj(this.prog, loc.type, this.address + BigInt(loc.offset), loc.bitOffset % 8, loc.bitSize);
  }

  /** Array element (or pointer arithmetic for a pointer). */
  index(i: number): Obj {
    const t = this.btf.type(this.rtype);
    if (t.kind === 'array') return new Obj(this.prog, t.type, this.address + BigInt(i * this.btf.sizeof(t.type)));
    if (t.kind === 'ptr') return new Obj(this.prog, t.type, this.ptr() + BigInt(i * this.btf.sizeof(t.type)));
    throw new DumpError(`${this.typeName} is not an array or pointer`);
  }

  bytes(len = this.size): Uint8Array {
    return this.prog.mem.read(this.address, len);
  }

  /** Integer, enum, bool, char or pointer value as bigint (sign-extended when signed). */
  value(): bigint {
    const r = this.rtype;
    const t = this.btf.type(r);
    let size = this.btf.sizeof(r);
    let signed = false;
    if (t.kind === 'int') signed = (t as BtfInt).signed;
    else if (t.kind === 'enum' || t.kind === 'enum64') signed = t.signed;
    else if (t.kind !== 'ptr') throw new DumpError(`cannot read ${this.typeName} as a number`);
    if (this.bitSize) {
      const nbytes = Math.ceil((this.bitOffset + this.bitSize) / 8);
      const b = this.prog.mem.read(this.address, nbytes);
      let v = 0n;
      for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
      v = (v >> BigInt(this.bitOffset)) & ((1n << BigInt(this.bitSize)) - 1n);
      return signed ? BigInt.asIntN(this.bitSize, v) : v;
    }
    if (size > 8) size = 8;
    const b = this.prog.mem.read(this.address, size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return signed ? BigInt.asIntN(size * 8, v) : v;
  }

  /** value() as a JS number (counts, ids, small fields). */
  num(): number {
    return Number(this.value());
  }

  /** The pointer value (for pointers and unsigned long fields used as addresses). */
  ptr(): bigint {
    return u64(this.prog.mem.read(this.address, 8), 0);
  }

  /** Follow a pointer member: the object it points to. */
  deref(): Obj {
    const t = this.btf.type(this.rtype);
    if (t.kind !== 'ptr') throw new DumpError(`${this.typeName} is not a pointer`);
    return new Obj(this.prog, t.type, this.ptr());
  }

  /** Shorthand: member(path).deref() with "->" style steps: arrow("mm", "pgd"). */
  arrow(...steps: string[]): Obj {
    let o: Obj = this;
    for (const s of steps) {
      if (o.kind === 'ptr') o = o.deref();
      o = o.member(s);
    }
    return o;
  }

  /** char array or char * as a string (at most `max` bytes). */
  string(max = 4096): string {
    const t = this.btf.type(this.rtype);
    if (t.kind === 'array') return cstr(this.bytes(Math.min(this.size, max)));
    if (t.kind === 'ptr') return this.prog.mem.cstring(this.ptr(), max);
    throw new DumpError(`${this.typeName} is not a string`);
  }

  /** The same address viewed as another type. */
  cast(type: string | number): Obj {
    return this.prog.obj(type, this.address);
  }

  /** Reads without throwing: null on a MemoryError. */
  try<T>(f: (o: Obj) => T): T | null {
    try {
      return f(this);
    } catch (e) {
      if (e instanceof MemoryError) return null;
      throw e;
    }
  }
}
