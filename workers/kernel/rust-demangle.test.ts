import { describe, it, expect } from 'vitest';
import { demangleRustV0, demangleKernelSymbol } from './rust-demangle';

// kallsyms names of Debian's Linux 7.2 (7.2-sysrq-kaslr) and what crash 9.0.2 prints for them (oracle/sym.tsv)
const CASES: Array<[string, string]> = [
  ['_RNvNCNCNvMs0_NtCsdJ13ReMSUMg_6kernel8configfsINtBb_9SubsystempE3news_005CLASS', '<kernel::configfs::Subsystem<_>>::new::{closure#1}::{closure#0}::CLASS'],
  ['__ksymtab__RNvMs2_NtNtCsbZfwWpAStWS_4core3fmt8buildersNtB5_10DebugTuple6finish', '__ksymtab_<core::fmt::builders::DebugTuple>::finish'],
  ['__kstrtab__RNvNtNtCsdJ13ReMSUMg_6kernel5print14format_strings4CRIT', '__kstrtab_kernel::print::format_strings::CRIT'],
  ['_RNvNtNtCsdJ13ReMSUMg_6kernel4time5delay6fsleep', 'kernel::time::delay::fsleep'],
  ['_RNvMsf_NtNtNtCsbZfwWpAStWS_4core3fmt3num3impy4__fmt', '<u64>::_fmt'],
  ['_RNvMs1_NtNtCsbZfwWpAStWS_4core3fmt3numn11format_into', '<i128>::format_into'],
  ['_RNvMs3_NtCsdJ13ReMSUMg_6kernel9regulatorINtB5_9RegulatorNtB5_7EnabledE3get', '<kernel::regulator::Regulator<kernel::regulator::Enabled>>::get'],
];

describe('Rust v0 demangling (kernel Rust symbols, as crash prints them)', () => {
  it.each(CASES)('%s', (mangled, want) => expect(demangleKernelSymbol(mangled)).toBe(want));
  it('RFC 2603 examples: trait impls, generic value paths, references, tuples, arrays', () => {
    // <Foo as Clone>::clone in crate "mycrate"
    expect(demangleRustV0('_RNvXs_Cs4Cv8Wi1oAIB_7mycrateNtB4_3FooNtNtCs7cVe0jWfcsE_4core5clone5Clone5clone')).toBe('<mycrate::Foo as core::clone::Clone>::clone');
    expect(demangleRustV0('_RINvCs1_3foo3barmE')).toBe('foo::bar::<u32>');
    expect(demangleRustV0('_RINvCs1_3foo3barRShE')).toBe('foo::bar::<&[u8]>');
    expect(demangleRustV0('_RINvCs1_3foo3barThmEE')).toBe('foo::bar::<(u8, u32)>');
    expect(demangleRustV0('_RINvCs1_3foo3barAhj4_E')).toBe('foo::bar::<[u8; 4]>');
  });
  it('anything else is left alone, in bounded time', () => {
    for (const n of ['panic', 'do_syscall_64', 'foo_Rbar', '_RNv', '_RB_', '_RNvB0_3abc', '_R' + 'N'.repeat(5000)]) {
      expect(demangleKernelSymbol(n)).toBe(n);
    }
    expect(demangleRustV0('_RNvNtCs1_6kernel4time5sleep.llvm.1234')).toBe('kernel::time::sleep');
  });
});
