import { newStats, type ByteSource } from './bytesource';

declare const FileReaderSync: { new (): { readAsArrayBuffer(b: Blob): ArrayBuffer } } | undefined;

/** A File or Blob inside a Web Worker, read synchronously with FileReaderSync. */
export class BlobSource implements ByteSource {
  readonly stats = newStats();
  readonly size: number;
  readonly name: string;
  private reader: { readAsArrayBuffer(b: Blob): ArrayBuffer };
  /**
   * Cache blocks of 64 KiB, not the 16 KiB default: each FileReaderSync call costs about a
   * millisecond whatever its size (Chromium, more under load), so fewer, larger reads win. On the
   * 8 GiB unfiltered ELF, `ps` makes 961 reads of 63 MB instead of 3014 of 49 MB.
   */
  readonly preferredBlockSize = 64 * 1024;
  /**
   * Long scans read 16 MiB at once: Chromium's FileReaderSync throughput grows with the read's
   * size (on this machine, under load: 31 ms per MiB read 1 MiB at a time, 10 ms per MiB read
   * 64 MiB at once); a search of an unfiltered 8 GiB ELF took 358 s with 1 MiB reads, 72 s with these.
   */
  readonly scanReadSize = 16 << 20;

  constructor(private blob: Blob, name?: string) {
    if (typeof FileReaderSync === 'undefined') {
      throw new Error('BlobSource needs FileReaderSync (a Web Worker)');
    }
    this.reader = new FileReaderSync();
    this.size = blob.size;
    this.name = name ?? ((blob as File).name || 'dump');
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const buf = new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(offset, end)));
    this.stats.bytesRead += buf.byteLength;
    this.stats.reads++;
    return buf;
  }
}

/** An in-memory buffer (tests of decoders, small dumps already in memory). */
export class BufferSource implements ByteSource {
  readonly stats = newStats();
  constructor(
    private data: Uint8Array,
    readonly name = 'buffer',
  ) {}
  get size(): number {
    return this.data.byteLength;
  }
  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.data.byteLength, offset + length);
    if (end <= offset) return new Uint8Array(0);
    this.stats.bytesRead += end - offset;
    this.stats.reads++;
    return this.data.subarray(offset, end);
  }
}
