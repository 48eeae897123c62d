/** Types of the snappyjs package (it ships none); used by the codec tests as reference compressor. */
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(data: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(data: T, maxLength?: number): T;
}
