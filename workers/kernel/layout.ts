/**
 * Where the parts of the kernel image are, from its linker symbols (VMCOREINFO, kallsyms, or the
 * vmlinux / System.map given with the dump): the one place the engine asks for them.
 */
import { cacheKey, type Program } from './program';

export interface KernelImageLayout {
  /** _text: the image's first byte (the head code before _stext included) */
  start?: bigint;
  /** the text: [_stext, _etext) (from _text when there is no _stext) */
  textStart?: bigint;
  textEnd?: bigint;
  /** the init text, freed after boot: [_sinittext, _einittext) */
  initTextStart?: bigint;
  initTextEnd?: bigint;
  /** _end: the image's last byte is below it */
  end?: bigint;
}

const LAYOUT_KEY = cacheKey<KernelImageLayout>('kernel.image-layout');

/** The kernel image's layout, looked up once per dump; a bound the kernel does not give is undefined. */
export function kernelImageLayout(prog: Program): KernelImageLayout {
  return prog.memo(LAYOUT_KEY, () => ({
    start: prog.symbolAddress('_text'),
    textStart: prog.symbolAddress('_stext') ?? prog.symbolAddress('_text'),
    textEnd: prog.symbolAddress('_etext'),
    initTextStart: prog.symbolAddress('_sinittext'),
    initTextEnd: prog.symbolAddress('_einittext'),
    end: prog.symbolAddress('_end'),
  }));
}

/** Whether addr is in the init text (false when the kernel does not say where that is). */
export function inInitText(prog: Program, addr: bigint): boolean {
  const { initTextStart: s, initTextEnd: e } = kernelImageLayout(prog);
  return s !== undefined && e !== undefined && addr >= s && addr < e;
}
