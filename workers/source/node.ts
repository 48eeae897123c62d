import { openSync, readSync, fstatSync, closeSync, statSync, constants } from 'node:fs';
import { basename } from 'node:path';
import { DumpError } from '../errors';
import { newStats, type ByteSource } from './bytesource';

/** A file on disk, read with fs.readSync (Node: CLI, tests, benchmarks). */
export class NodeFileSource implements ByteSource {
  readonly stats = newStats();
  /** a page: reads are cheap system calls, and random small reads (descriptors, page tables) should not pull in more */
  readonly preferredBlockSize = 4096;
  readonly size: number;
  readonly name: string;
  private fd: number;

  constructor(path: string) {
    // Look before opening: opening a FIFO blocks until a writer comes, a device may never end.
    let pre;
    try {
      pre = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DumpError(`${path}: no such file`);
      if (code === 'EACCES') throw new DumpError(`${path}: permission denied`);
      if (code === 'ENOTDIR') throw new DumpError(`${path}: no such file (a part of the path is not a directory)`);
      if (code === 'ENAMETOOLONG') throw new DumpError(`${path.slice(0, 60)}...: file name too long`);
      if (code === 'ELOOP') throw new DumpError(`${path}: too many levels of symbolic links`);
      throw new DumpError(`${path}: cannot open (${code ?? 'error'})`);
    }
    if (pre.isDirectory()) throw new DumpError(`${path}: is a directory, not a dump file`);
    if (!pre.isFile()) {
      const what = pre.isFIFO() ? 'a FIFO (named pipe)' : pre.isSocket() ? 'a socket' : pre.isCharacterDevice() ? 'a character device' : pre.isBlockDevice() ? 'a block device' : 'not a regular file';
      throw new DumpError(`${path}: is ${what}, not a dump file (save the dump to a regular file first)`);
    }
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DumpError(`${path}: no such file`);
      if (code === 'EISDIR') throw new DumpError(`${path}: is a directory, not a dump file`);
      if (code === 'EACCES') throw new DumpError(`${path}: permission denied`);
      throw new DumpError(`${path}: cannot open (${code ?? 'error'})`);
    }
    const st = fstatSync(this.fd);
    if (st.isDirectory()) throw new DumpError(`${path}: is a directory, not a dump file`);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new DumpError(`${path}: not a regular file, not a dump file`);
    }
    this.size = st.size;
    this.name = basename(path);
  }

  read(offset: number, length: number): Uint8Array {
    const buf = new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
    const done = this.readInto(offset, buf);
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  readInto(offset: number, dest: Uint8Array): number {
    const n = Math.max(0, Math.min(dest.length, this.size - offset));
    let done = 0;
    while (done < n) {
      const r = readSync(this.fd, dest, done, n - done, offset + done);
      if (r <= 0) break;
      done += r;
    }
    this.stats.bytesRead += done;
    this.stats.reads++;
    return done;
  }

  close(): void {
    closeSync(this.fd);
  }
}
