import { openSync, readSync, fstatSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import { DumpError } from '../errors';
import { newStats, type ByteSource } from './bytesource';

/** A file on disk, read with fs.readSync (Node: CLI, tests, benchmarks). */
export class NodeFileSource implements ByteSource {
  readonly stats = newStats();
  readonly size: number;
  readonly name: string;
  private fd: number;

  constructor(path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DumpError(`${path}: no such file`);
      if (code === 'EISDIR') throw new DumpError(`${path}: is a directory, not a dump file`);
      if (code === 'EACCES') throw new DumpError(`${path}: permission denied`);
      throw new DumpError(`${path}: cannot open (${code ?? 'error'})`);
    }
    const st = fstatSync(this.fd);
    if (st.isDirectory()) throw new DumpError(`${path}: is a directory, not a dump file`);
    this.size = st.size;
    this.name = basename(path);
  }

  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const r = readSync(this.fd, buf, done, n - done, offset + done);
      if (r <= 0) break;
      done += r;
    }
    this.stats.bytesRead += done;
    this.stats.reads++;
    return done === n ? buf : buf.subarray(0, done);
  }

  close(): void {
    closeSync(this.fd);
  }
}
