/**
 * Rust "v0" symbol demangling (RFC 2603; the grammar of rustc's symbol-mangling-version=v0, which
 * the kernel's Rust code uses): `_RNvNtCs1234_6kernel4time5fsleep` -> `kernel::time::fsleep`.
 * Printed like rustc-demangle's alternate form and libiberty's non-verbose one (what crash and gdb
 * show): no crate hashes, closures as `{closure#N}`, inherent impls as `<Type>`, trait impls as
 * `<Type as Trait>`, generic arguments as `<...>`.
 *
 * Input is memory (kallsyms names), so every step is bounded: a depth limit, a step limit, and
 * any grammar violation returns null (the caller keeps the raw name).
 */

const MAX_DEPTH = 64;
const MAX_STEPS = 10_000;

class Fail extends Error {}

const BASIC: Record<string, string> = {
  a: 'i8', b: 'bool', c: 'char', d: 'f64', e: 'str', f: 'f32', h: 'u8', i: 'isize', j: 'usize', l: 'i32',
  m: 'u32', n: 'i128', o: 'u128', s: 'i16', t: 'u16', u: '()', v: '...', x: 'i64', y: 'u64', z: '!', p: '_',
};

class Parser {
  private pos: number;
  private depth = 0;
  private steps = 0;
  constructor(
    private readonly s: string,
    /** index just after "_R": backrefs count from here */
    private readonly base: number,
  ) {
    this.pos = base;
  }

  private peek(): string {
    return this.s[this.pos] ?? '';
  }
  private next(): string {
    if (this.pos >= this.s.length) throw new Fail();
    return this.s[this.pos++];
  }
  private eat(c: string): boolean {
    if (this.s[this.pos] === c) {
      this.pos++;
      return true;
    }
    return false;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH || ++this.steps > MAX_STEPS) throw new Fail();
  }
  private leave(): void {
    this.depth--;
  }

  /** <base-62-number>: digits 0-9a-zA-Z terminated by "_"; "_" alone is 0, else value + 1 */
  private base62(): number {
    if (this.eat('_')) return 0;
    let v = 0;
    let n = 0;
    for (;;) {
      const c = this.next();
      if (c === '_') return v + 1;
      let d: number;
      if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
      else if (c >= 'a' && c <= 'z') d = c.charCodeAt(0) - 97 + 10;
      else if (c >= 'A' && c <= 'Z') d = c.charCodeAt(0) - 65 + 36;
      else throw new Fail();
      v = v * 62 + d; // crate hashes are 64-bit: imprecise past 2^53, but only small values are used
      if (++n > 16) throw new Fail();
    }
  }

  private decimal(): number {
    // "0" | <nonzero-digit> {<digit>}
    const start = this.pos;
    if (this.eat('0')) return 0;
    while (this.peek() >= '0' && this.peek() <= '9' && this.pos - start < 9) this.pos++;
    if (this.pos === start) throw new Fail();
    return Number(this.s.slice(start, this.pos));
  }

  /** [<disambiguator>]: "s" <base-62-number>, value + 1; 0 when absent */
  private disambiguator(): number {
    return this.eat('s') ? this.base62() + 1 : 0;
  }

  /** <identifier> = [<disambiguator>] <undisambiguated-identifier> */
  private identifier(): { dis: number; name: string } {
    const dis = this.disambiguator();
    const punycode = this.eat('u');
    const len = this.decimal();
    this.eat('_');
    if (this.pos + len > this.s.length) throw new Fail();
    const name = this.s.slice(this.pos, this.pos + len);
    this.pos += len;
    if (punycode) throw new Fail(); // non-ASCII identifiers: keep the raw name
    return { dis, name };
  }

  private backref<T>(f: () => T): T {
    const at = this.base + this.base62();
    if (at >= this.pos - 1) throw new Fail(); // backrefs point strictly backwards
    const save = this.pos;
    this.pos = at;
    try {
      return f();
    } finally {
      this.pos = save;
    }
  }

  /** <path>; `inValue`: generic args print as `::<...>` (a value path) rather than `<...>` */
  path(inValue: boolean): string {
    this.enter();
    try {
      const tag = this.next();
      switch (tag) {
        case 'C':
          return this.identifier().name;
        case 'M': {
          this.disambiguator();
          this.path(false); // the impl's path (not printed in this form)
          return `<${this.type()}>`;
        }
        case 'X': {
          this.disambiguator();
          this.path(false);
          const t = this.type();
          return `<${t} as ${this.path(false)}>`;
        }
        case 'Y': {
          const t = this.type();
          return `<${t} as ${this.path(false)}>`;
        }
        case 'N': {
          const ns = this.next();
          const outer = this.path(inValue);
          const id = this.identifier();
          if (ns >= 'a' && ns <= 'z') return `${outer}::${id.name}`;
          if (ns < 'A' || ns > 'Z') throw new Fail();
          const kind = ns === 'C' ? 'closure' : ns === 'S' ? 'shim' : ns;
          return `${outer}::{${kind}${id.name ? ':' + id.name : ''}#${id.dis}}`;
        }
        case 'I': {
          const p = this.path(inValue);
          const args: string[] = [];
          while (!this.eat('E')) args.push(this.genericArg());
          return `${p}${inValue ? '::' : ''}<${args.join(', ')}>`;
        }
        case 'B':
          return this.backref(() => this.path(inValue));
        default:
          throw new Fail();
      }
    } finally {
      this.leave();
    }
  }

  private genericArg(): string {
    if (this.eat('L')) {
      this.base62();
      return "'_";
    }
    if (this.eat('K')) return this.constant();
    return this.type();
  }

  private lifetimePrefix(): string {
    if (this.eat('L')) {
      const n = this.base62();
      return n ? "'_ " : '';
    }
    return '';
  }

  type(): string {
    this.enter();
    try {
      const c = this.peek();
      if (BASIC[c]) {
        this.pos++;
        return BASIC[c];
      }
      switch (this.next()) {
        case 'A': {
          const t = this.type();
          return `[${t}; ${this.constant()}]`;
        }
        case 'S':
          return `[${this.type()}]`;
        case 'T': {
          const ts: string[] = [];
          while (!this.eat('E')) ts.push(this.type());
          return ts.length === 1 ? `(${ts[0]},)` : `(${ts.join(', ')})`;
        }
        case 'R': {
          const l = this.lifetimePrefix();
          return `&${l}${this.type()}`;
        }
        case 'Q': {
          const l = this.lifetimePrefix();
          return `&${l}mut ${this.type()}`;
        }
        case 'P':
          return `*const ${this.type()}`;
        case 'O':
          return `*mut ${this.type()}`;
        case 'F':
          return this.fnSig();
        case 'D': {
          const bounds = this.dynBounds();
          if (!this.eat('L')) throw new Fail();
          this.base62();
          return `dyn ${bounds}`;
        }
        case 'B':
          return this.backref(() => this.type());
        default:
          this.pos--;
          return this.path(false);
      }
    } finally {
      this.leave();
    }
  }

  private binder(): void {
    if (this.eat('G')) this.base62();
  }

  private fnSig(): string {
    this.binder();
    const unsafe = this.eat('U');
    let abi = '';
    if (this.eat('K')) {
      if (this.eat('C')) abi = 'extern "C" ';
      else abi = `extern "${this.identifier().name.replace(/_/g, '-')}" `;
    }
    const args: string[] = [];
    while (!this.eat('E')) args.push(this.type());
    const ret = this.type();
    return `${unsafe ? 'unsafe ' : ''}${abi}fn(${args.join(', ')})${ret === '()' ? '' : ' -> ' + ret}`;
  }

  private dynBounds(): string {
    this.binder();
    const traits: string[] = [];
    while (!this.eat('E')) {
      let t = this.path(false);
      const assoc: string[] = [];
      while (this.eat('p')) {
        const name = this.identifier().name;
        assoc.push(`${name} = ${this.type()}`);
      }
      if (assoc.length) t = t.endsWith('>') ? `${t.slice(0, -1)}, ${assoc.join(', ')}>` : `${t}<${assoc.join(', ')}>`;
      traits.push(t);
    }
    return traits.join(' + ');
  }

  private constant(): string {
    this.enter();
    try {
      if (this.eat('p')) return '_';
      if (this.eat('B')) return this.backref(() => this.constant());
      const t = this.next();
      const neg = this.eat('n');
      const start = this.pos;
      while (/[0-9a-f]/.test(this.peek())) this.pos++;
      const hex = this.s.slice(start, this.pos);
      if (!this.eat('_')) throw new Fail();
      const v = hex ? BigInt('0x' + hex) : 0n;
      if (t === 'b') return v ? 'true' : 'false';
      if (t === 'c') return `'${String.fromCodePoint(Number(v))}'`;
      if (!'hmyotjsilxnai'.includes(t) && !BASIC[t]) throw new Fail();
      return `${neg ? '-' : ''}${v.toString()}`;
    } finally {
      this.leave();
    }
  }

  /** The whole symbol: [<decimal version>] <path> [<instantiating-crate>] [.suffix] */
  symbol(): string {
    if (this.peek() >= '0' && this.peek() <= '9') this.decimal();
    const p = this.path(true);
    // an instantiating crate may follow (not printed); then only a vendor suffix (".llvm.123")
    if (this.pos < this.s.length && /[A-Z]/.test(this.peek())) this.path(false);
    if (this.pos < this.s.length && this.s[this.pos] !== '.' && this.s[this.pos] !== '$') throw new Fail();
    return p;
  }
}

/** Demangle a v0 symbol starting with "_R"; null when `s` is not one (or does not parse). */
export function demangleRustV0(s: string): string | null {
  if (!s.startsWith('_R') || s.length > 4096) return null;
  try {
    return new Parser(s, 2).symbol();
  } catch (e) {
    if (e instanceof Fail || e instanceof RangeError || e instanceof SyntaxError) return null;
    throw e;
  }
}

/**
 * A kernel symbol name with its Rust part demangled, as crash shows it: the whole name
 * (`_RNv...`) or the part after a prefix ending in "_" (`__ksymtab__RNv...` ->
 * `__ksymtab_<...>::finish`). Other names are returned unchanged.
 */
export function demangleKernelSymbol(name: string): string {
  const i = name.indexOf('_R');
  if (i < 0) return name;
  if (i > 0 && name[i - 1] !== '_') return name;
  const d = demangleRustV0(name.slice(i));
  return d === null ? name : name.slice(0, i) + d;
}
