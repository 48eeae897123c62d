import { DumpError } from '../errors';
import { newStats, type ByteSource } from './bytesource';

/**
 * A dump at a URL, read with synchronous XMLHttpRequest and HTTP Range headers (allowed in
 * workers). The server must answer Range requests with 206 and expose Content-Range (CORS).
 */
export class HttpRangeSource implements ByteSource {
  readonly stats = newStats();
  readonly size: number;
  readonly name: string;
  /** a Range request costs a round trip: fetch 256 KiB at a time */
  readonly preferredBlockSize = 256 * 1024;
  /** and scans through the file fetch up to 4 MiB a request (CachedSource's read-ahead) */
  readonly readAheadBytes = 4 * 1024 * 1024;
  /** what came at that price is kept longer: 128 MiB of blocks (ByteSource.cacheBytes) */
  readonly cacheBytes = 128 * 1024 * 1024;
  /** a search through all memory reads 16 MiB a request (an 8.6 GB ELF: 8212 requests at 1 MiB) */
  readonly scanReadSize = 16 << 20;
  /**
   * The first block, fetched by the probe that learns the size (the header read comes next):
   * kept until a read inside it, so opening costs no separate round trip for it.
   */
  private head: Uint8Array | null = null;

  constructor(readonly url: string) {
    this.name = decodeURIComponent(url.split('?')[0].split('/').pop() || url);
    const probe = this.request(0, this.preferredBlockSize - 1);
    const cr = probe.getResponseHeader('Content-Range');
    if (probe.status !== 206 || !cr) {
      throw new DumpError(
        probe.status === 200
          ? `${url}: the server ignores HTTP Range requests (answered 200, not 206); serve the dump from a server that supports Range`
          : `${url}: HTTP ${probe.status || 'request failed (network or CORS: the server must allow this origin and expose Content-Range)'}`,
      );
    }
    const m = /\/(\d+)\s*$/.exec(cr);
    if (!m) throw new DumpError(`${url}: the server did not give the file size in Content-Range`);
    this.size = Number(m[1]);
    const head = new Uint8Array(probe.response as ArrayBuffer);
    // a server may answer 206 with fewer bytes than asked (the file is shorter): keep what came
    if (head.byteLength > 0 && head.byteLength <= this.preferredBlockSize) {
      this.head = head;
      this.stats.bytesRead += head.byteLength;
      this.stats.reads++;
    }
  }

  private request(offset: number, last: number): XMLHttpRequest {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', this.url, false);
    xhr.responseType = 'arraybuffer';
    xhr.setRequestHeader('Range', `bytes=${offset}-${last}`);
    try {
      xhr.send();
    } catch (e) {
      // a synchronous XHR reports a network or CORS failure as a DOMException (NetworkError)
      if (!(e instanceof DOMException)) throw e;
      throw new DumpError(`${this.url}: request failed (network error or CORS refused)`);
    }
    return xhr;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    if (this.head && end <= this.head.byteLength) {
      const h = this.head;
      this.head = null;
      return h.subarray(offset, end);
    }
    const xhr = this.request(offset, end - 1);
    if (xhr.status !== 206) throw new DumpError(`${this.url}: Range read failed with HTTP ${xhr.status}`);
    const buf = new Uint8Array(xhr.response as ArrayBuffer);
    this.stats.bytesRead += buf.byteLength;
    this.stats.reads++;
    return buf;
  }
}
