/** A page's compressed data is malformed. The kdump reader turns it into MemoryError('corrupt'). */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}
