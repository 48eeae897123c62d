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

  constructor(readonly url: string) {
    this.name = decodeURIComponent(url.split('?')[0].split('/').pop() || url);
    const probe = this.request(0, 0);
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
    const xhr = this.request(offset, end - 1);
    if (xhr.status !== 206) throw new DumpError(`${this.url}: Range read failed with HTTP ${xhr.status}`);
    const buf = new Uint8Array(xhr.response as ArrayBuffer);
    this.stats.bytesRead += buf.byteLength;
    this.stats.reads++;
    return buf;
  }
}
