/**
 * The physical layer: a dump file seen as physical memory plus its notes. One implementation per
 * dump format (elf.ts, kdump.ts); detect.ts picks one. Virtual addresses are not known here.
 */
export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

/** x86_64 user_regs_struct order, as in elf_prstatus.pr_reg. */
export const X86_64_PRSTATUS_REGS = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx',
  'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds',
  'es', 'fs', 'gs',
] as const;

export interface PrStatus {
  /** index of the note among NT_PRSTATUS notes (= CPU number in kdump and QEMU dumps) */
  index: number;
  /** pr_pid: a Linux pid for kdump's /proc/vmcore, CPU+1 for QEMU dumps */
  pid: number;
  regs: Record<string, bigint>;
}

export interface PhysRange {
  start: number; // physical address, inclusive
  end: number; // exclusive
}

export interface DumpHeaderInfo {
  /** utsname from a kdump header (often empty in QEMU-written files) */
  utsname?: { sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string };
  /** dump time from a kdump header (seconds since the epoch) */
  timestamp?: number;
  /** kdump header status flags */
  status?: number;
  /** the dump is known to be incomplete (DUMP_DH_COMPRESSED_INCOMPLETE, ELF PT_LOAD past EOF) */
  incomplete?: boolean;
  nrCpus?: number;
  currentCpu?: number;
  headerVersion?: number;
  /** makedumpfile dump level (-d), when known */
  dumpLevel?: number;
}

export type DumpFormatName = 'elf' | 'kdump' | 'kdump-flat';
export type Compression = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd' | 'mixed';

export interface PhysicalDump {
  readonly format: DumpFormatName;
  /** per-page compression seen in the file ('none' for ELF) */
  readonly compression: Compression;
  readonly pageSize: number;
  readonly vmcoreinfo: string | null;
  readonly notes: ElfNote[];
  readonly prstatus: PrStatus[];
  readonly header: DumpHeaderInfo;
  /** problems found while opening that do not stop it (shown to the user) */
  readonly warnings: string[];
  /** Physical ranges the dump covers (present or excluded pages); ascending, disjoint. */
  ranges(): PhysRange[];
  /** Highest physical address + 1 covered. */
  readonly maxPhys: number;
  /** Whether the page holding `paddr` has data in the dump. */
  hasPage(paddr: number): boolean;
  /**
   * Read `len` bytes of physical memory. Throws MemoryError('not-in-dump' | 'no-such-memory' |
   * 'truncated' | 'corrupt') naming the first page that cannot be read. May return a view
   * into a cache: do not modify.
   */
  readPhys(paddr: number, len: number): Uint8Array;
  /**
   * Read dest.length bytes of physical memory into `dest` without keeping the pages in a cache
   * (large one-off reads: BTF, kallsyms tables, scans), else as readPhys. Absent: use readPhys.
   */
  copyPhys?(paddr: number, dest: Uint8Array): void;
  /**
   * The file size its own headers promise, to tell a truncated copy ("truncated at N of M
   * bytes"): `atLeast` when the file ends before the headers that would say the whole size.
   * Absent or null when the format cannot tell without reading it all.
   */
  expectedSize?(): { bytes: number; atLeast: boolean } | null;
}
